import { EtcdCtlCommand } from '../../../cli/etcd-commands/ctl.js';

export default class ClusterEtcdCtl extends EtcdCtlCommand {}
