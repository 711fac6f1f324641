import { EtcdDelCommand } from '../../cli/etcd-commands/kv.js';

export default class EtcdDel extends EtcdDelCommand {}
