import { EtcdPutCommand } from '../../../cli/etcd-commands/kv.js';

export default class ClusterEtcdPut extends EtcdPutCommand {}
