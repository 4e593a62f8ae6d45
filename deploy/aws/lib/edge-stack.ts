// The edge tier: GPU instances in the Wavelength subnet running vLLM's OpenAI-compatible server
// (Fargate does not run in Wavelength zones). Each instance gets a carrier IP, the address that
// client-side gateways on the carrier's network use; the regional gateway reaches the same
// instances by their private address inside the VPC. vLLM's API key comes from Secrets Manager
// at boot.
//
// Plain instances rather than an Auto Scaling group: each carrier IP is allocated by the stack and
// stays the same across instance replacements, so devices can be configured with it.

import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Settings } from './settings';

export interface EdgeStackProps extends StackProps {
  settings: Settings;
  vpc: ec2.IVpc;
  subnet: ec2.ISubnet;
  securityGroup: ec2.ISecurityGroup;
}

export class EdgeStack extends Stack {
  readonly instances: ec2.Instance[] = [];
  readonly carrierIps: ec2.CfnEIP[] = [];
  readonly apiKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const s = props.settings;

    this.apiKey = new secretsmanager.Secret(this, 'VllmApiKey', {
      description: 'mecrouter edge: the API key vLLM requires (EDGE_VLLM_KEY on gateways)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    const role = new iam.Role(this, 'EdgeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'mecrouter edge instances: read the vLLM API key',
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [this.apiKey.secretArn],
    }));

    for (let n = 0; n < s.edgeCount; n++) {
      const userData = ec2.UserData.forLinux();
      userData.addCommands(...vllmBootCommands(s, this.apiKey.secretArn));
      const instance = new ec2.Instance(this, `Edge${n}`, {
        vpc: props.vpc,
        vpcSubnets: { subnets: [props.subnet] },
        instanceType: new ec2.InstanceType(s.edgeInstanceType),
        machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(s.edgeAmiParameter),
        securityGroup: props.securityGroup,
        role,
        userData,
        requireImdsv2: true,
        blockDevices: [{
          deviceName: '/dev/sda1',
          // gp2: the general-purpose type Wavelength zones offer.
          volume: ec2.BlockDeviceVolume.ebs(150, { volumeType: ec2.EbsDeviceVolumeType.GP2, encrypted: true }),
        }],
      });
      Tags.of(instance).add('Name', `mecrouter-edge-${n}`);
      this.instances.push(instance);

      // A carrier IP from the zone's network border group, bound to this instance.
      const ip = new ec2.CfnEIP(this, `Edge${n}CarrierIp`, {
        domain: 'vpc',
        networkBorderGroup: s.networkBorderGroup,
        tags: [{ key: 'Name', value: `mecrouter-edge-${n}-carrier-ip` }],
      });
      new ec2.CfnEIPAssociation(this, `Edge${n}CarrierIpAssociation`, {
        allocationId: ip.attrAllocationId,
        instanceId: instance.instanceId,
      });
      this.carrierIps.push(ip);
      new CfnOutput(this, `Edge${n}CarrierIpOutput`, {
        value: ip.ref,
        description: `edge-${n}: the carrier IP client-side gateways use (http://IP:8000/v1)`,
      });
    }
    new CfnOutput(this, 'VllmApiKeySecret', { value: this.apiKey.secretArn });
    Tags.of(this).add('project', 'mecrouter');
  }
}

// The instance's boot script: read the API key, start vLLM in a container on the GPU.
function vllmBootCommands(s: Settings, secretArn: string): string[] {
  return [
    'set -euo pipefail',
    `KEY="$(aws secretsmanager get-secret-value --region ${s.region} --secret-id ${secretArn} --query SecretString --output text)"`,
    'mkdir -p /opt/hf-cache',
    // T4 (g4dn) is compute capability 7.5: half precision, and vLLM's V0 engine (docs/deploy-aws.md).
    [
      'docker run -d --name vllm --restart unless-stopped --gpus all --ipc=host -p 8000:8000',
      '-v /opt/hf-cache:/root/.cache/huggingface -e VLLM_USE_V1=0',
      `-e VLLM_API_KEY="$KEY" ${s.edgeVllmImage}`,
      `--model ${s.edgeModel} --dtype half --max-model-len ${s.edgeMaxModelLen}`,
      `--max-num-seqs ${s.edgeMaxConcurrency} --port 8000`,
    ].join(' '),
  ];
}
