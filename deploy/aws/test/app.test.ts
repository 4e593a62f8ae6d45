// Assertions on the synthesised templates (aws-cdk-lib/assertions), offline: the app is built
// with cdk.json's context plus the overrides each test gives. Run: npm test (make deploy-test).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildMecrouter, MecrouterStacks } from '../lib/mecrouter-app';
import { gatewayConfigYaml } from '../lib/gateway-config';
import { DEFAULTS } from '../lib/settings';

const ROOT = path.resolve(__dirname, '..', '..');   // deploy/aws
const CDK_JSON = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));

function build(context: Record<string, unknown> = {}): { stacks: MecrouterStacks; t: Record<string, Template> } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mec-cdk-'));
  const app = new App({ outdir, context: { ...CDK_JSON.context, ...context } });
  const stacks = buildMecrouter(app);
  const t = {
    network: Template.fromStack(stacks.network),
    edge: Template.fromStack(stacks.edge),
    state: Template.fromStack(stacks.state),
    gateway: Template.fromStack(stacks.gateway),
    observability: Template.fromStack(stacks.observability),
  };
  return { stacks, t };
}

const { stacks, t } = build();
type Resource = { Type: string; Properties?: Record<string, any> };
const resources = (tpl: Template, type: string): Array<[string, Resource]> =>
  Object.entries(tpl.findResources(type) as Record<string, Resource>);
const allTemplates = Object.values(t);

// The value an Fn::ImportValue refers to: the exporting output's value in any template.
function exported(importValue: unknown): unknown {
  const name = (importValue as { 'Fn::ImportValue': string })['Fn::ImportValue'];
  for (const tpl of allTemplates) {
    for (const out of Object.values((tpl.toJSON().Outputs ?? {}) as Record<string, any>)) {
      if (out.Export?.Name === name) return out.Value;
    }
  }
  throw new Error(`no export named ${name}`);
}

test('stacks are top-level, in an explicit account and region, with no parameters but CDK\'s bootstrap version', () => {
  for (const s of [stacks.network, stacks.edge, stacks.state, stacks.gateway, stacks.observability]) {
    assert.equal(s.account, DEFAULTS.account);
    assert.equal(s.region, DEFAULTS.region);
    assert.equal(s.node.scope, s.node.root, `${s.stackName} sits at the app's top level`);
  }
  for (const tpl of allTemplates) {
    assert.deepEqual(Object.keys(tpl.toJSON().Parameters ?? {}), ['BootstrapVersion']);
  }
});

test('network: private subnets in two zones, endpoints, a Wavelength subnet routed through a carrier gateway', () => {
  const n = t.network;
  n.resourceCountIs('AWS::EC2::VPC', 1);
  const zones = new Set(resources(n, 'AWS::EC2::Subnet').map(([, r]) => r.Properties!.AvailabilityZone));
  for (const az of DEFAULTS.availabilityZones) assert.ok(zones.has(az), `a subnet in ${az}`);
  for (const svc of ['secretsmanager', 'ssm', 'ecr.api', 'ecr.dkr', 'logs', 'bedrock-runtime']) {
    n.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: `com.amazonaws.${DEFAULTS.region}.${svc}`,
      PrivateDnsEnabled: true,
    });
  }
  n.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });

  const [[cagwId]] = resources(n, 'AWS::EC2::CarrierGateway');
  const wl = resources(n, 'AWS::EC2::Subnet').filter(([, r]) => r.Properties!.AvailabilityZone === DEFAULTS.wavelengthZone);
  assert.equal(wl.length, 1, 'one subnet in the Wavelength zone');
  const [wlId] = wl[0];
  const routes = resources(n, 'AWS::EC2::Route').filter(([, r]) => r.Properties!.CarrierGatewayId !== undefined);
  assert.equal(routes.length, 1, 'one route through the carrier gateway');
  const route = routes[0][1].Properties!;
  assert.equal(route.DestinationCidrBlock, '0.0.0.0/0');
  assert.deepEqual(route.CarrierGatewayId, { 'Fn::GetAtt': [cagwId, 'CarrierGatewayId'] });
  n.hasResourceProperties('AWS::EC2::SubnetRouteTableAssociation', {
    SubnetId: { Ref: wlId }, RouteTableId: route.RouteTableId,
  });
  // No NAT by default: the private subnets reach AWS through the endpoints.
  n.resourceCountIs('AWS::EC2::NatGateway', 0);
});

test('edge: GPU instances in the Wavelength subnet, with carrier IPs and vLLM\'s key from Secrets Manager', () => {
  const e = t.edge;
  const instances = resources(e, 'AWS::EC2::Instance');
  assert.equal(instances.length, DEFAULTS.edgeCount);
  const [[, wlSubnet]] = resources(t.network, 'AWS::EC2::Subnet')
    .filter(([, r]) => r.Properties!.AvailabilityZone === DEFAULTS.wavelengthZone);
  assert.ok(wlSubnet);
  const wlId = resources(t.network, 'AWS::EC2::Subnet')
    .find(([, r]) => r.Properties!.AvailabilityZone === DEFAULTS.wavelengthZone)![0];
  for (const [id, inst] of instances) {
    assert.equal(inst.Properties!.InstanceType, 'g4dn.2xlarge', 'the GPU type appears literally');
    assert.deepEqual(exported(inst.Properties!.SubnetId), { Ref: wlId }, `${id} in the Wavelength subnet`);
    e.hasResourceProperties('AWS::EC2::EIPAssociation', {
      InstanceId: { Ref: id },
      AllocationId: Match.objectLike({ 'Fn::GetAtt': Match.arrayWith(['AllocationId']) }),
    });
    const boot = JSON.stringify(inst.Properties!.UserData);
    assert.match(boot, /secretsmanager get-secret-value/);
    assert.match(boot, /vllm\/vllm-openai/);
  }
  e.hasResourceProperties('AWS::EC2::EIP', { Domain: 'vpc', NetworkBorderGroup: DEFAULTS.wavelengthZone });
  e.resourceCountIs('AWS::SecretsManager::Secret', 1);
});

test('edge security group admits only the carrier range and the regional gateway', () => {
  const groups = t.network.findResources('AWS::EC2::SecurityGroup');
  const edgeId = Object.keys(groups).find((k) => k.startsWith('EdgeSg'))!;
  const gatewayId = Object.keys(groups).find((k) => k.startsWith('GatewaySg'))!;
  const ingress = ingressRules(t.network, edgeId);
  assert.ok(ingress.length > 0);
  for (const r of ingress) {
    assert.equal(r.FromPort, 8000);
    if (r.CidrIp !== undefined) assert.ok(DEFAULTS.edgeClientCidrs.includes(r.CidrIp), `${r.CidrIp} is a carrier range`);
    else assert.deepEqual(r.SourceSecurityGroupId, { 'Fn::GetAtt': [gatewayId, 'GroupId'] });
  }
});

test('gateway: HTTPS listener with the certificate, HTTP only redirects', () => {
  const g = t.gateway;
  g.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
    Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: DEFAULTS.certificateArn }],
  });
  g.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
    Port: 80, Protocol: 'HTTP',
    DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
  });
  g.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
  g.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
});

test('gateway: Fargate tasks in private subnets, health on /readyz, deregistration delay = shutdown_grace_ms', () => {
  const g = t.gateway;
  g.hasResourceProperties('AWS::ECS::Service', {
    LaunchType: 'FARGATE',
    NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
  });
  const [[, svc]] = resources(g, 'AWS::ECS::Service');
  const subnets = svc.Properties!.NetworkConfiguration.AwsvpcConfiguration.Subnets.map(exported);
  const privateIds = resources(t.network, 'AWS::EC2::Subnet')
    .filter(([, r]) => (r.Properties!.Tags ?? []).some((tag: any) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === 'private'))
    .map(([id]) => ({ Ref: id }));
  assert.equal(subnets.length, 2);
  assert.deepEqual(subnets, privateIds, 'the private subnets of both zones');
  g.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
    HealthCheckPath: '/readyz',
    Port: 8080,
    TargetType: 'ip',
    TargetGroupAttributes: Match.arrayWith([
      { Key: 'deregistration_delay.timeout_seconds', Value: String(DEFAULTS.shutdownGraceMs / 1000) },
    ]),
  });
  // Scaling on CPU and on requests per target.
  g.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
    MinCapacity: DEFAULTS.gatewayMinTasks, MaxCapacity: DEFAULTS.gatewayMaxTasks,
  });
  for (const metric of ['ECSServiceAverageCPUUtilization', 'ALBRequestCountPerTarget']) {
    g.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: metric }),
      }),
    });
  }
});

test('gateway: configuration from SSM, credentials from Secrets Manager, logs to the log group', () => {
  const g = t.gateway;
  const [[, td]] = resources(g, 'AWS::ECS::TaskDefinition');
  const [c] = td.Properties!.ContainerDefinitions;
  const secrets = Object.fromEntries(c.Secrets.map((s: any) => [s.Name, JSON.stringify(s.ValueFrom)]));
  assert.deepEqual(Object.keys(secrets).sort(),
    ['AWS_BEARER_TOKEN_BEDROCK', 'EDGE_VLLM_KEY', 'MECROUTER_CONFIG', 'MECROUTER_DASHBOARD_TOKEN']);
  assert.match(secrets.MECROUTER_CONFIG, /parameter/);
  assert.equal(c.ReadonlyRootFilesystem, true);
  assert.equal(c.LogConfiguration.LogDriver, 'awslogs');
  g.hasResourceProperties('AWS::SSM::Parameter', { Name: '/mecrouter/gateway/config.yaml', Type: 'String' });
  g.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: Match.anyValue(),
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LifecycleConfiguration: { Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: DEFAULTS.exportRetentionDays })] },
  });
});

test('no public ingress to the tasks except through the load balancer', () => {
  const groups = t.network.findResources('AWS::EC2::SecurityGroup');
  const albId = Object.keys(groups).find((k) => k.startsWith('AlbSg'))!;
  const gatewayId = Object.keys(groups).find((k) => k.startsWith('GatewaySg'))!;
  // Every rule open to the internet is on the load balancer's group, for 80 or 443.
  for (const tpl of allTemplates) {
    for (const [sg, rule] of allIngressRules(tpl)) {
      if (rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0') {
        assert.deepEqual(sg, albId, `internet ingress only on the load balancer (found on ${JSON.stringify(sg)})`);
        assert.ok([80, 443].includes(rule.FromPort ?? -1));
      }
    }
  }
  const toTasks = ingressRules(t.network, gatewayId);
  assert.ok(toTasks.length > 0);
  for (const r of toTasks) assert.deepEqual(r.SourceSecurityGroupId, { 'Fn::GetAtt': [albId, 'GroupId'] });
});

test('shared state: a replication group, cluster mode off, encryption in transit required', () => {
  t.state.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
    TransitEncryptionEnabled: true,
    TransitEncryptionMode: 'required',
    AtRestEncryptionEnabled: true,
    ClusterMode: 'disabled',
    Engine: 'valkey',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
  });
  t.state.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
});

test('observability: alarms on availability, TTFT p95 per tier and 5xx rate; the dashboard', () => {
  const o = t.observability;
  o.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  o.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Threshold: 99.9, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 1,
    Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('IF\\(') })]),
  });
  for (const tier of ['edge', 'cloud']) {
    o.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TTFT', Namespace: 'mecrouter', ExtendedStatistic: 'p95', Period: 300,
      Threshold: DEFAULTS.ttftSloMs, Dimensions: [{ Name: 'tier', Value: tier }],
    });
  }
  o.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Threshold: DEFAULTS.fiveXxRatePercent, ComparisonOperator: 'GreaterThanThreshold',
    Metrics: Match.arrayWith([Match.objectLike({
      MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'HTTPCode_Target_5XX_Count' }) }),
    })]),
  });
  const [[, dash]] = resources(o, 'AWS::CloudWatch::Dashboard');
  const body = JSON.stringify(dash.Properties!.DashboardBody);
  for (const needle of ['Requests by tier', 'TTFT p95 by tier', 'Availability', 'CloudOnlyCostUSD', 'CostUSD', 'JudgeSpendUSD']) {
    assert.ok(body.includes(needle), `the dashboard shows ${needle}`);
  }
});

test('IAM: no wildcard in any action', () => {
  let statements = 0;
  for (const tpl of allTemplates) {
    const docs: any[] = [];
    for (const [, p] of resources(tpl, 'AWS::IAM::Policy')) docs.push(p.Properties!.PolicyDocument);
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::User']) {
      for (const [, r] of resources(tpl, type)) for (const p of r.Properties!.Policies ?? []) docs.push(p.PolicyDocument);
    }
    for (const doc of docs) {
      for (const st of doc.Statement) {
        statements++;
        for (const action of [st.Action].flat()) {
          assert.equal(typeof action, 'string');
          assert.ok(!action.includes('*'), `action ${action} has a wildcard`);
        }
      }
    }
  }
  assert.ok(statements >= 5, `policies were found (${statements} statements)`);
  t.gateway.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:PutObject' })]) },
  });
});

test('context values change the template (two edge instances of another type)', () => {
  const { t: t2 } = build({ edgeCount: '2', edgeInstanceType: 'g4dn.4xlarge', shutdownGraceMs: 20000 });
  t2.edge.resourceCountIs('AWS::EC2::Instance', 2);
  t2.edge.resourceCountIs('AWS::EC2::EIP', 2);
  t2.edge.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 'g4dn.4xlarge' });
  t2.gateway.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
    TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }]),
  });
  assert.throws(() => build({ edgeClientCidrs: '0.0.0.0/0' }), /edgeClientCidrs/);
});

test('the gateway configuration passes `mecrouter config check` (when MECROUTER_BIN is set)', (ctx) => {
  const yaml = gatewayConfigYaml(DEFAULTS, {
    edgeHosts: ['10.40.200.10', '10.40.200.11'], redisHost: 'master.mec.abc123.use1.cache.amazonaws.com',
    redisPort: '6379', dataDir: '/var/lib/mecrouter',
  });
  assert.match(yaml, /url: rediss:\/\/master\./);
  assert.match(yaml, /keys_db: \/var\/lib\/mecrouter\/keys\.db/);  // keys travel between tasks through Redis
  assert.doesNotMatch(yaml, /allow_anonymous/);
  const alone = gatewayConfigYaml({ ...DEFAULTS, sharedState: false }, {
    edgeHosts: ['10.40.200.10'], redisHost: 'h', redisPort: '6379', dataDir: '/d',
  });
  assert.doesNotMatch(alone, /state:/);
  assert.match(alone, /\n {2}allow_anonymous: true/);  // under server:, behind the load balancer
  const bin = process.env.MECROUTER_BIN;
  if (!bin) { ctx.skip('MECROUTER_BIN not set'); return; }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mec-cfg-')), 'config.yaml');
  fs.writeFileSync(file, yaml);
  const out = execFileSync(bin, ['config', 'check', file], { encoding: 'utf8' });
  assert.match(out, /edge-0/);
  assert.match(out, /cloud-bedrock/);
  const aloneFile = path.join(path.dirname(file), 'alone.yaml');
  fs.writeFileSync(aloneFile, alone);
  assert.match(execFileSync(bin, ['config', 'check', aloneFile], { encoding: 'utf8' }), /edge-0/);
});

// --- helpers over security group rules ---
interface Rule { CidrIp?: string; CidrIpv6?: string; FromPort?: number; SourceSecurityGroupId?: unknown }

// Every ingress rule of the group with this logical id (inline or separate), from the template.
function ingressRules(tpl: Template, sgLogicalId: string): Rule[] {
  return allIngressRules(tpl).filter(([sg]) => JSON.stringify(sg) === JSON.stringify(sgLogicalId)).map(([, r]) => r);
}

// [group, rule] for every ingress rule in the template; the group is a logical id when the rule
// is inline or refers to a group of the same template, else the raw reference.
function allIngressRules(tpl: Template): Array<[unknown, Rule]> {
  const out: Array<[unknown, Rule]> = [];
  for (const [id, sg] of resources(tpl, 'AWS::EC2::SecurityGroup')) {
    for (const r of sg.Properties!.SecurityGroupIngress ?? []) out.push([id, r]);
  }
  for (const [, r] of resources(tpl, 'AWS::EC2::SecurityGroupIngress')) {
    const g = r.Properties!.GroupId;
    const local = g?.['Fn::GetAtt']?.[0];
    out.push([local ?? g, r.Properties as Rule]);
  }
  return out;
}
