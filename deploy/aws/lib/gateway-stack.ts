// The regional gateway: mecrouter on ECS Fargate in the private subnets of both zones, behind an
// internet-facing Application Load Balancer with HTTPS (the only public entry). Configuration
// from SSM Parameter Store, credentials from Secrets Manager, logs (with the CloudWatch EMF lines)
// to a log group, the decision log exported to an encrypted S3 bucket.

import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Size, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IgnoreMode } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Settings } from './settings';
import { ENV_BEDROCK_KEY, ENV_DASHBOARD_TOKEN, ENV_EDGE_KEY, gatewayConfigYaml } from './gateway-config';

export interface GatewayStackProps extends StackProps {
  settings: Settings;
  vpc: ec2.IVpc;
  albSg: ec2.ISecurityGroup;
  gatewaySg: ec2.ISecurityGroup;
  edgeHosts: string[];              // private IPs of the edge instances
  edgeApiKey: secretsmanager.ISecret;
  redisHost: string;
  redisPort: string;
}

// Where the image keeps its writable files (Dockerfile: VOLUME, owned by the mecrouter user).
export const DATA_DIR = '/var/lib/mecrouter';

export class GatewayStack extends Stack {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;
  readonly exportBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const s = props.settings;

    // Configuration and credentials.
    const config = new ssm.StringParameter(this, 'Config', {
      parameterName: '/mecrouter/gateway/config.yaml',
      description: 'mecrouter regional gateway configuration (YAML)',
      stringValue: gatewayConfigYaml(s, {
        edgeHosts: props.edgeHosts, redisHost: props.redisHost, redisPort: props.redisPort, dataDir: DATA_DIR,
      }),
      tier: ssm.ParameterTier.STANDARD,
    });
    const bedrockKey = new secretsmanager.Secret(this, 'BedrockApiKey', {
      description: 'mecrouter cloud tier: an Amazon Bedrock API key (put the real key here after deploying)',
    });
    const dashboardToken = new secretsmanager.Secret(this, 'DashboardToken', {
      description: 'mecrouter: bearer token for /dashboard, /api/... and /v1/feedback',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });

    // The least-privileged identity behind the Bedrock API key: it may call the one model, with
    // a bearer token, and nothing else. Its long-term key is made by the operator (docs).
    const bedrockUser = new iam.User(this, 'BedrockKeyUser');
    bedrockUser.addToPolicy(new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      resources: [`arn:${this.partition}:bedrock:${s.region}::foundation-model/${s.bedrockModel}`],
    }));
    bedrockUser.addToPolicy(new iam.PolicyStatement({
      actions: ['bedrock:CallWithBearerToken'],
      resources: ['*'],
    }));

    // Decision-log exports: encrypted, private, TLS only, expired by a lifecycle rule.
    this.exportBucket = new s3.Bucket(this, 'DecisionLogExports', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'expire-exports',
        prefix: s.exportPrefix,
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
        expiration: Duration.days(Math.max(s.exportRetentionDays, 31)),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });

    this.logGroup = new logs.LogGroup(this, 'GatewayLogs', {
      logGroupName: '/mecrouter/gateway',
      retention: retentionDays(s.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The task.
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'mecrouter gateway task: write its decision-log exports',
    });
    taskRole.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [this.exportBucket.arnForObjects(`${s.exportPrefix}*`)],
    }));
    const taskDef = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: s.gatewayCpu,
      memoryLimitMiB: s.gatewayMemoryMiB,
      taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    taskDef.addVolume({ name: 'data' });   // task storage: ephemeral, hence the exports

    const image = s.gatewayImage
      ? ecs.ContainerImage.fromRegistry(s.gatewayImage)
      : ecs.ContainerImage.fromAsset(path.resolve(__dirname, '..', '..', '..', '..'), {
        file: 'Dockerfile',
        ignoreMode: IgnoreMode.DOCKER,   // the repository's .dockerignore keeps the context small
      });
    const container = taskDef.addContainer('mecrouter', {
      image,
      essential: true,
      readonlyRootFilesystem: true,
      // The configuration arrives in an environment variable; mecrouter reads a file.
      entryPoint: ['/bin/sh', '-c'],
      command: [`printf '%s' "$MECROUTER_CONFIG" > ${DATA_DIR}/config.yaml && exec mecrouter serve --config ${DATA_DIR}/config.yaml`],
      portMappings: [{ containerPort: 8080, protocol: ecs.Protocol.TCP }],
      environment: {
        MECROUTER_EXPORT_BUCKET: this.exportBucket.bucketName,
        MECROUTER_EXPORT_PREFIX: s.exportPrefix,
        MECROUTER_EXPORT_INTERVAL_S: String(s.exportIntervalS),
        AWS_REGION: s.region,
      },
      secrets: {
        MECROUTER_CONFIG: ecs.Secret.fromSsmParameter(config),
        [ENV_EDGE_KEY]: ecs.Secret.fromSecretsManager(props.edgeApiKey),
        [ENV_BEDROCK_KEY]: ecs.Secret.fromSecretsManager(bedrockKey),
        [ENV_DASHBOARD_TOKEN]: ecs.Secret.fromSecretsManager(dashboardToken),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'gateway',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      // SIGTERM, then shutdown_grace_ms for in-flight requests, then SIGKILL.
      stopTimeout: Duration.seconds(Math.min(120, Math.ceil(s.shutdownGraceMs / 1000) + 5)),
    });
    container.addMountPoints({ containerPath: DATA_DIR, sourceVolume: 'data', readOnly: false });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: taskDef,
      desiredCount: s.gatewayMinTasks,
      securityGroups: [props.gatewaySg],
      vpcSubnets: { subnetGroupName: 'private' },
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
    });

    // The load balancer: HTTPS with the given certificate; HTTP only redirects.
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: props.albSg,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
    });
    const https = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(s.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,   // the security group already admits 443
    });
    this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    this.targetGroup = https.addTargets('Gateway', {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: {
        path: '/readyz',   // 503 while draining, so the balancer stops sending before the task stops
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
      deregistrationDelay: Duration.seconds(Math.ceil(s.shutdownGraceMs / 1000)),
    });

    // Autoscaling on CPU and on requests per task.
    const scaling = this.service.autoScaleTaskCount({ minCapacity: s.gatewayMinTasks, maxCapacity: s.gatewayMaxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    scaling.scaleOnRequestCount('Requests', { requestsPerTarget: s.gatewayRequestsPerTarget, targetGroup: this.targetGroup });

    new CfnOutput(this, 'LoadBalancerDns', {
      value: this.loadBalancer.loadBalancerDnsName,
      description: `point ${s.domainName} (CNAME or alias) here`,
    });
    new CfnOutput(this, 'BedrockApiKeySecret', { value: bedrockKey.secretArn });
    new CfnOutput(this, 'BedrockKeyUserName', { value: bedrockUser.userName });
    new CfnOutput(this, 'DashboardTokenSecret', { value: dashboardToken.secretArn });
    new CfnOutput(this, 'ExportBucket', { value: this.exportBucket.bucketName });
    Tags.of(this).add('project', 'mecrouter');
  }
}

function retentionDays(days: number): logs.RetentionDays {
  const known = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0);
  const pick = known.filter((d) => d >= days).sort((a, b) => a - b)[0];
  return (pick ?? logs.RetentionDays.TEN_YEARS) as logs.RetentionDays;
}
