// Builds the deployment's stacks at the app's top level (no Stage), each in an explicit account
// and region so synthesis runs offline with no AWS credentials: MecNetwork, MecEdge, MecState,
// MecGateway, MecObservability. bin/app.ts calls it; the tests call it with their own context.

import { App, Environment } from 'aws-cdk-lib';
import { EdgeStack } from './edge-stack';
import { GatewayStack } from './gateway-stack';
import { NetworkStack } from './network-stack';
import { ObservabilityStack } from './observability-stack';
import { readSettings, Settings } from './settings';
import { StateStack } from './state-stack';

export interface MecrouterStacks {
  settings: Settings;
  network: NetworkStack;
  edge: EdgeStack;
  state: StateStack;
  gateway: GatewayStack;
  observability: ObservabilityStack;
}

export function buildMecrouter(app: App): MecrouterStacks {
  const settings = readSettings(app.node);
  const env: Environment = { account: settings.account, region: settings.region };
  const description = 'mecrouter (deploy/aws, docs/deploy-aws.md)';

  const network = new NetworkStack(app, 'MecNetwork', { env, settings, description: `${description}: network` });
  const edge = new EdgeStack(app, 'MecEdge', {
    env, settings, description: `${description}: edge tier (Wavelength)`,
    vpc: network.vpc, subnet: network.wavelengthSubnet, securityGroup: network.edgeSg,
  });
  const state = new StateStack(app, 'MecState', {
    env, settings, description: `${description}: shared state`,
    vpc: network.vpc, securityGroup: network.cacheSg,
  });
  const gateway = new GatewayStack(app, 'MecGateway', {
    env, settings, description: `${description}: regional gateway`,
    vpc: network.vpc, albSg: network.albSg, gatewaySg: network.gatewaySg,
    edgeHosts: edge.instances.map((i) => i.instancePrivateIp),
    edgeApiKey: edge.apiKey,
    redisHost: state.replicationGroup.attrPrimaryEndPointAddress,
    redisPort: state.replicationGroup.attrPrimaryEndPointPort,
  });
  const observability = new ObservabilityStack(app, 'MecObservability', {
    env, settings, description: `${description}: dashboard and alarms`,
    loadBalancer: gateway.loadBalancer,
  });
  return { settings, network, edge, state, gateway, observability };
}
