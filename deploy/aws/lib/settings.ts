// The deployment's parameters: CDK context values (cdk.json, or `-c key=value` on the command
// line) with defaults. They are read once, at synthesis, so every value appears literally in the
// synthesised template (no CloudFormation parameters). docs/deploy-aws.md lists them.

import { Node } from 'constructs';

export interface Settings {
  account: string;                 // AWS account id; the placeholder synthesises offline
  region: string;
  availabilityZones: string[];     // two AZs of the region for the private subnets
  vpcCidr: string;
  wavelengthZone: string;          // e.g. us-east-1-wl1-bos-wlz-1 (must be opted in to)
  wavelengthCidr: string;          // the Wavelength subnet, inside vpcCidr
  networkBorderGroup: string;      // the carrier IPs' network border group (the zone's, by default)
  edgeClientCidrs: string[];       // the carrier's device address ranges admitted to the edge
  edgeInstanceType: string;        // g4dn.2xlarge: the GPU type Wavelength offers
  edgeCount: number;
  edgeAmiParameter: string;        // SSM parameter holding the GPU AMI id, resolved at launch
  edgeVllmImage: string;
  edgeModel: string;               // the Hugging Face model id vLLM serves
  edgeMaxModelLen: number;
  edgeMaxConcurrency: number;
  edgeGpuPerHour: number;          // list price used by the router's cost model
  edgeTokensPerSecond: number;
  gatewayCpu: number;              // Fargate task size
  gatewayMemoryMiB: number;
  gatewayMinTasks: number;
  gatewayMaxTasks: number;
  gatewayRequestsPerTarget: number;
  gatewayImage: string;            // "" = build the repository's Dockerfile as a CDK asset
  certificateArn: string;          // ACM certificate for the HTTPS listener
  domainName: string;              // informational: the name clients use (DNS is yours)
  shutdownGraceMs: number;         // server.shutdown_grace_ms = target deregistration delay
  cacheNodeType: string;
  cacheEngine: string;             // valkey or redis
  cacheEngineVersion: string;
  cacheReplicas: number;           // nodes in the replication group (1 primary + N-1 replicas)
  sharedState: boolean;            // the gateways use the cache (`state: rediss://...`); false: each learns alone
  bedrockModel: string;            // a model Bedrock's OpenAI-compatible endpoint serves
  bedrockInputPer1M: number;       // USD, from the Bedrock price list
  bedrockOutputPer1M: number;
  emfNamespace: string;
  ttftSloMs: number;               // the TTFT p95 alarm's threshold
  availabilityTarget: number;      // percent; the availability alarm fires below it
  fiveXxRatePercent: number;       // the 5xx alarm's threshold, percent of requests
  alarmEmail: string;              // "" = alarms without a subscription
  exportPrefix: string;            // S3 key prefix of the decision-log exports
  exportIntervalS: number;         // how often each task exports its decision log
  exportRetentionDays: number;     // lifecycle: exports are deleted after this
  logRetentionDays: number;
  natGateways: number;             // 0: private subnets reach AWS only through VPC endpoints
}

export const DEFAULTS: Settings = {
  account: '111111111111',
  region: 'us-east-1',
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  vpcCidr: '10.40.0.0/16',
  wavelengthZone: 'us-east-1-wl1-bos-wlz-1',
  wavelengthCidr: '10.40.200.0/24',
  networkBorderGroup: '',
  edgeClientCidrs: ['100.64.0.0/10'],
  edgeInstanceType: 'g4dn.2xlarge',
  edgeCount: 1,
  edgeAmiParameter: '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id',
  edgeVllmImage: 'vllm/vllm-openai:v0.8.5',
  edgeModel: 'Qwen/Qwen2.5-7B-Instruct-AWQ',
  edgeMaxModelLen: 8192,
  edgeMaxConcurrency: 8,
  edgeGpuPerHour: 0.752,       // ASSUMPTION: g4dn.2xlarge's regional on-demand price; Wavelength's is higher
  edgeTokensPerSecond: 300,
  gatewayCpu: 1024,
  gatewayMemoryMiB: 2048,
  gatewayMinTasks: 2,
  gatewayMaxTasks: 10,
  gatewayRequestsPerTarget: 200,
  gatewayImage: '',
  certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
  domainName: 'router.example.com',
  shutdownGraceMs: 10000,
  cacheNodeType: 'cache.t4g.small',
  cacheEngine: 'valkey',
  cacheEngineVersion: '7.2',
  cacheReplicas: 2,
  sharedState: true,
  bedrockModel: 'openai.gpt-oss-120b-1:0',
  bedrockInputPer1M: 0.15,     // ASSUMPTION: check the Bedrock price list for the model
  bedrockOutputPer1M: 0.6,
  emfNamespace: 'mecrouter',
  ttftSloMs: 1500,
  availabilityTarget: 99.9,
  fiveXxRatePercent: 1,
  alarmEmail: '',
  exportPrefix: 'decisions/',
  exportIntervalS: 300,
  exportRetentionDays: 90,
  logRetentionDays: 30,
  natGateways: 0,
};

// Reads every key of Settings from the context, falling back to DEFAULTS. Numbers and lists may
// come as strings from `-c key=value` (lists comma-separated).
export function readSettings(node: Node): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null) {
      out[key] = fallback;
    } else if (Array.isArray(fallback)) {
      out[key] = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter(Boolean);
    } else if (typeof fallback === 'boolean') {
      out[key] = raw === true || raw === 'true';
    } else if (typeof fallback === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`context ${key}: expected a number, got ${JSON.stringify(raw)}`);
      out[key] = n;
    } else {
      out[key] = String(raw);
    }
  }
  const s = out as unknown as Settings;
  if (!s.networkBorderGroup) s.networkBorderGroup = s.wavelengthZone;
  if (s.availabilityZones.length !== 2) throw new Error('context availabilityZones: expected two zones of the region');
  for (const az of s.availabilityZones) {
    if (!az.startsWith(s.region)) throw new Error(`context availabilityZones: ${az} is not in ${s.region}`);
  }
  if (!s.wavelengthZone.startsWith(s.region + '-wl')) {
    throw new Error(`context wavelengthZone: ${s.wavelengthZone} is not a Wavelength zone of ${s.region}`);
  }
  if (s.edgeClientCidrs.some((c) => c === '0.0.0.0/0')) {
    throw new Error('context edgeClientCidrs: 0.0.0.0/0 would open the edge to everyone; give the carrier ranges');
  }
  if (!Number.isInteger(s.edgeCount) || s.edgeCount < 1) throw new Error('context edgeCount: at least 1');
  if (s.gatewayMinTasks < 1 || s.gatewayMaxTasks < s.gatewayMinTasks) {
    throw new Error('context gatewayMinTasks/gatewayMaxTasks: 1 <= min <= max');
  }
  if (s.shutdownGraceMs < 0 || s.shutdownGraceMs > 110000) {
    throw new Error('context shutdownGraceMs: 0..110000 (Fargate stops a container at most 120 s after SIGTERM)');
  }
  if (s.cacheEngine !== 'valkey' && s.cacheEngine !== 'redis') throw new Error('context cacheEngine: valkey or redis');
  return s;
}
