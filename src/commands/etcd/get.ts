import { EtcdGetCommand } from '../../cli/etcd-commands/kv.js';

export default class EtcdGet extends EtcdGetCommand {}
