// Shared state between gateway replicas (docs/replicas.md): ElastiCache for Valkey (or Redis
// OSS), node-based, cluster mode disabled, encryption in transit required and at rest on.
//
// Why node-based with cluster mode off: the gateway's Redis client (hiredis 0.14, Debian 12)
// speaks neither the cluster protocol nor TLS by itself. ElastiCache Serverless is cluster-mode
// and TLS-only; a replication group with cluster mode disabled exposes one primary endpoint that
// any Redis client can use. The gateway speaks TLS to it through its own in-process TLS client
// (`state: rediss://...`, docs/replicas.md).

import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { Settings } from './settings';

export interface StateStackProps extends StackProps {
  settings: Settings;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
}

export class StateStack extends Stack {
  readonly replicationGroup: elasticache.CfnReplicationGroup;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const s = props.settings;

    const subnets = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
      description: 'mecrouter shared state: isolated subnets in two zones',
      subnetIds: props.vpc.selectSubnets({ subnetGroupName: 'cache' }).subnetIds,
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: 'mecrouter shared state (latency reports, ejections, cache, learning)',
      engine: s.cacheEngine,
      engineVersion: s.cacheEngineVersion,
      cacheNodeType: s.cacheNodeType,
      numCacheClusters: s.cacheReplicas,
      automaticFailoverEnabled: s.cacheReplicas > 1,
      multiAzEnabled: s.cacheReplicas > 1,
      clusterMode: 'disabled',
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      port: 6379,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
    });

    new CfnOutput(this, 'CacheEndpoint', {
      value: `${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`,
    });
    Tags.of(this).add('project', 'mecrouter');
  }
}
