// The regional gateway's mecrouter configuration (YAML), as the stack stores it in SSM Parameter
// Store. A pure function: the stack passes CloudFormation tokens for addresses known only at
// deploy time, the tests pass literal values and run `mecrouter config check` on the result.

import { Settings } from './settings';

export interface GatewayConfigInputs {
  edgeHosts: string[];    // private IPv4 of each edge instance (the gateway reaches them inside the VPC)
  redisHost: string;      // the replication group's primary endpoint
  redisPort: string;
  dataDir: string;        // where the task keeps its SQLite files (ephemeral)
}

// Environment variables the gateway's task receives from Secrets Manager.
export const ENV_EDGE_KEY = 'EDGE_VLLM_KEY';
export const ENV_BEDROCK_KEY = 'AWS_BEARER_TOKEN_BEDROCK';
export const ENV_DASHBOARD_TOKEN = 'MECROUTER_DASHBOARD_TOKEN';

export function gatewayConfigYaml(s: Settings, i: GatewayConfigInputs): string {
  const lines: string[] = [
    '# mecrouter regional gateway (deploy/aws, docs/deploy-aws.md). Stored in SSM Parameter Store;',
    '# the task writes it to a file at start. Edit through the CDK app, not in place.',
    'server:',
    '  listen: 0.0.0.0:8080              # behind the load balancer only (security group)',
    `  shutdown_grace_ms: ${s.shutdownGraceMs}          # = the target group\'s deregistration delay`,
    'routing:',
    '  policy: adaptive',
    'telemetry:',
    '  decision_log:',
    `    path: ${i.dataDir}/decisions.db`,
    '  access_log:',
    '    path: "-"                       # stderr -> awslogs -> the log group',
    '    emf: true                       # CloudWatch extracts the metrics the dashboard plots',
    `    emf_namespace: ${s.emfNamespace}`,
    'dashboard:',
    `  token_env: ${ENV_DASHBOARD_TOKEN}`,
  ];
  if (s.sharedState) {
    lines.push('state:', `  url: rediss://${i.redisHost}:${i.redisPort}   # TLS: the cache requires encryption in transit`);
    // API keys (docs/security.md): made through any task's admin API (POST /admin/keys with the
    // dashboard token); Redis carries them to every task, a new task receives them all at start.
    lines.push('auth:', `  keys_db: ${i.dataDir}/keys.db`);
  } else {
    // Without Redis each task would hold its own keys and lose them with its ephemeral disk:
    // the load balancer is the perimeter, and the gateway says so loudly at start.
    lines.splice(4, 0, '  allow_anonymous: true             # no shared state for keys (docs/security.md)');
  }
  lines.push('backends:');
  i.edgeHosts.forEach((host, n) => {
    lines.push(
      `  - name: edge-${n}`,
      '    tier: edge',
      `    url: http://${host}:8000/v1`,
      `    models: [${JSON.stringify(s.edgeModel)}]`,
      `    api_key_env: ${ENV_EDGE_KEY}`,
      '    engine: vllm',
      `    max_concurrency: ${s.edgeMaxConcurrency}`,
      `    context_window: ${s.edgeMaxModelLen}`,
      '    timeouts: {connect_ms: 500, first_byte_ms: 10000, idle_ms: 10000}',
      `    price: {gpu_per_hour: ${s.edgeGpuPerHour}, gpu_tokens_per_second: ${s.edgeTokensPerSecond}}`,
    );
  });
  lines.push(
    '  - name: cloud-bedrock',
    '    tier: cloud',
    `    url: https://bedrock-runtime.${s.region}.amazonaws.com/openai/v1`,
    `    models: [${JSON.stringify(s.bedrockModel)}]`,
    `    api_key_env: ${ENV_BEDROCK_KEY}`,
    '    context_window: 128000',
    '    timeouts: {connect_ms: 2000, first_byte_ms: 15000}',
    `    price: {input_per_1m: ${s.bedrockInputPer1M}, output_per_1m: ${s.bedrockOutputPer1M}}`,
  );
  return lines.join('\n') + '\n';
}
