// The network: a VPC with public subnets (the load balancer), private subnets for the gateway's
// tasks and isolated subnets for the cache in two availability zones, interface endpoints so the
// private tasks reach Secrets Manager, SSM, ECR, CloudWatch Logs and Bedrock without a NAT, and
// one subnet in a Wavelength zone whose default route goes through a carrier gateway.
//
// The security groups live here too, so the rules between tiers are in one place and the other
// stacks only reference them:
//   alb      <- 443/80 from anywhere (the only public ingress of the regional part)
//   gateway  <- 8080 from alb only
//   edge     <- 8000 from the carrier's device ranges and from gateway
//   cache    <- 6379 from gateway only
//
// One Wavelength zone per VPC: instances in two Wavelength zones of one VPC cannot talk to each
// other. A second zone gets a VPC of its own, joined by a transit gateway (docs/deploy-aws.md).

import { Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { Settings } from './settings';

export interface NetworkStackProps extends StackProps {
  settings: Settings;
}

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly wavelengthSubnet: ec2.ISubnet;
  readonly carrierGateway: ec2.CfnCarrierGateway;
  readonly albSg: ec2.SecurityGroup;
  readonly gatewaySg: ec2.SecurityGroup;
  readonly edgeSg: ec2.SecurityGroup;
  readonly cacheSg: ec2.SecurityGroup;
  private readonly zones: string[];

  // The zones come from the settings, not from a lookup: synthesis stays offline.
  override get availabilityZones(): string[] {
    return this.zones;
  }

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.zones = s.availabilityZones;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(s.vpcCidr),
      availabilityZones: s.availabilityZones,
      natGateways: s.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: 'private',
          subnetType: s.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
        { name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });

    // Interface endpoints for what the private tasks call, and the S3 gateway endpoint (ECR
    // image layers and the decision-log exports).
    const privateSubnets = { subnetGroupName: 'private' };
    const endpoints: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['Ssm', ec2.InterfaceVpcEndpointAwsService.SSM],
      ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['BedrockRuntime', ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME],
    ];
    for (const [name, service] of endpoints) {
      this.vpc.addInterfaceEndpoint(name, { service, subnets: privateSubnets, privateDnsEnabled: true });
    }
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [privateSubnets],
    });

    // The Wavelength zone: a subnet, a carrier gateway, and a route table whose default route
    // goes through the carrier gateway (Wavelength subnets have no internet gateway route).
    const wlSubnet = new ec2.CfnSubnet(this, 'WavelengthSubnet', {
      vpcId: this.vpc.vpcId,
      cidrBlock: s.wavelengthCidr,
      availabilityZone: s.wavelengthZone,
      tags: [{ key: 'Name', value: `mecrouter-${s.wavelengthZone}` }],
    });
    this.carrierGateway = new ec2.CfnCarrierGateway(this, 'CarrierGateway', {
      vpcId: this.vpc.vpcId,
      tags: [{ key: 'Name', value: 'mecrouter-carrier-gateway' }],
    });
    const wlRoutes = new ec2.CfnRouteTable(this, 'WavelengthRouteTable', { vpcId: this.vpc.vpcId });
    new ec2.CfnRoute(this, 'WavelengthDefaultRoute', {
      routeTableId: wlRoutes.ref,
      destinationCidrBlock: '0.0.0.0/0',
      carrierGatewayId: this.carrierGateway.attrCarrierGatewayId,
    });
    new ec2.CfnSubnetRouteTableAssociation(this, 'WavelengthRouteTableAssociation', {
      subnetId: wlSubnet.ref,
      routeTableId: wlRoutes.ref,
    });
    this.wavelengthSubnet = ec2.Subnet.fromSubnetAttributes(this, 'WavelengthSubnetRef', {
      subnetId: wlSubnet.ref,
      availabilityZone: s.wavelengthZone,
      routeTableId: wlRoutes.ref,
    });

    // Security groups.
    this.albSg = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: this.vpc, description: 'mecrouter load balancer: HTTPS from clients', allowAllOutbound: false,
    });
    this.albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from clients');
    this.albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');

    this.gatewaySg = new ec2.SecurityGroup(this, 'GatewaySg', {
      vpc: this.vpc, description: 'mecrouter gateway tasks: only from the load balancer', allowAllOutbound: true,
    });
    this.gatewaySg.addIngressRule(this.albSg, ec2.Port.tcp(8080), 'from the load balancer');
    this.albSg.addEgressRule(this.gatewaySg, ec2.Port.tcp(8080), 'to the gateway tasks');

    this.edgeSg = new ec2.SecurityGroup(this, 'EdgeSg', {
      vpc: this.vpc, description: 'mecrouter edge (vLLM): the carrier range and the regional gateway', allowAllOutbound: true,
    });
    for (const cidr of s.edgeClientCidrs) {
      this.edgeSg.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(8000), 'client-side gateways on the carrier network');
    }
    this.edgeSg.addIngressRule(this.gatewaySg, ec2.Port.tcp(8000), 'the regional gateway');

    this.cacheSg = new ec2.SecurityGroup(this, 'CacheSg', {
      vpc: this.vpc, description: 'mecrouter shared state (TLS): the gateway tasks only', allowAllOutbound: false,
    });
    this.cacheSg.addIngressRule(this.gatewaySg, ec2.Port.tcp(6379), 'the gateway tasks');

    Tags.of(this).add('project', 'mecrouter');
  }
}
