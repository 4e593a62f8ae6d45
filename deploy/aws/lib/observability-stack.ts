// Observability: a CloudWatch dashboard and alarms on the metrics CloudWatch extracts from the
// gateway's EMF log lines (src/telemetry/access_log.h: namespace `emf_namespace`, dimension
// `tier`; JudgeSpendUSD under dimension component=learning) and on the load balancer's own.

import { Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Settings } from './settings';

export interface ObservabilityStackProps extends StackProps {
  settings: Settings;
  loadBalancer: elbv2.IApplicationLoadBalancer;
}

// The tier values the EMF lines carry ("none": no backend answered).
const TIERS = ['device', 'edge', 'cloud', 'none'];
const SERVING_TIERS = ['edge', 'cloud'];

export class ObservabilityStack extends Stack {
  readonly dashboard: cw.Dashboard;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const ns = s.emfNamespace;
    // One EMF metric of one tier; `label` names the line on a graph (an alarm takes none).
    const byTier = (name: string, tier: string, statistic: string, period: Duration, label: string | null = tier) =>
      new cw.Metric({ namespace: ns, metricName: name, dimensionsMap: { tier }, statistic, period, label: label ?? undefined });
    // Sum of one EMF metric over every tier, as a math expression (missing tiers count 0).
    const sumOverTiers = (name: string, prefix: string, period: Duration): [string, Record<string, cw.IMetric>] => {
      const using: Record<string, cw.IMetric> = {};
      TIERS.forEach((t, n) => { using[`${prefix}${n}`] = byTier(name, t, 'Sum', period); });
      return [Object.keys(using).map((k) => `FILL(${k}, 0)`).join(' + '), using];
    };
    const availability = (period: Duration) => {
      const [req, reqUsing] = sumOverTiers('Requests', 'r', period);
      const [fail, failUsing] = sumOverTiers('Failed', 'f', period);
      return new cw.MathExpression({
        expression: `IF((${req}) > 0, 100 * (1 - (${fail}) / (${req})), 100)`,
        usingMetrics: { ...reqUsing, ...failUsing },
        label: 'availability %',
        period,
      });
    };
    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);

    const [cost, costUsing] = sumOverTiers('CostUSD', 'c', minute);
    const [cloudOnly, cloudOnlyUsing] = sumOverTiers('CloudOnlyCostUSD', 'o', minute);
    const costPerMinute = new cw.MathExpression({ expression: cost, usingMetrics: costUsing, label: 'cost USD/min', period: minute });
    const cloudOnlyPerMinute = new cw.MathExpression({
      expression: cloudOnly, usingMetrics: cloudOnlyUsing, label: 'cloud-only USD/min (counterfactual)', period: minute,
    });
    const judgeSpend = new cw.Metric({
      namespace: ns, metricName: 'JudgeSpendUSD', dimensionsMap: { component: 'learning' },
      statistic: 'Sum', period: minute, label: 'judge + reference USD/min',
    });
    const alb = props.loadBalancer.metrics;
    const albRequests = alb.requestCount({ period: fiveMinutes, statistic: 'Sum' });
    const target5xx = alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' });
    const elb5xx = alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' });
    const fiveXxRate = new cw.MathExpression({
      expression: 'IF(FILL(req, 0) > 0, 100 * (FILL(t5, 0) + FILL(e5, 0)) / FILL(req, 0), 0)',
      usingMetrics: { req: albRequests, t5: target5xx, e5: elb5xx },
      label: '5xx % of requests',
      period: fiveMinutes,
    });

    // Alarms.
    const topic = new sns.Topic(this, 'Alarms', { displayName: 'mecrouter alarms' });
    if (s.alarmEmail) topic.addSubscription(new subs.EmailSubscription(s.alarmEmail));
    const alarm = (id: string, a: cw.AlarmProps) => {
      const created = new cw.Alarm(this, id, a);
      created.addAlarmAction(new cwActions.SnsAction(topic));
      created.addOkAction(new cwActions.SnsAction(topic));
      this.alarms.push(created);
      return created;
    };
    alarm('AvailabilityAlarm', {
      alarmDescription: `availability under ${s.availabilityTarget}% over 5 minutes (EMF Requests/Failed)`,
      metric: availability(fiveMinutes),
      threshold: s.availabilityTarget,
      comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    for (const tier of SERVING_TIERS) {
      alarm(`TtftP95${tier[0].toUpperCase()}${tier.slice(1)}Alarm`, {
        alarmDescription: `TTFT p95 of the ${tier} tier over the ${s.ttftSloMs} ms SLO for 5 minutes`,
        metric: byTier('TTFT', tier, 'p95', fiveMinutes, null),
        threshold: s.ttftSloMs,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('FiveXxRateAlarm', {
      alarmDescription: `5xx responses (targets + load balancer) over ${s.fiveXxRatePercent}% of requests for 5 minutes`,
      metric: fiveXxRate,
      threshold: s.fiveXxRatePercent,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    // The dashboard.
    this.dashboard = new cw.Dashboard(this, 'Dashboard', { dashboardName: 'mecrouter' });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Requests by tier (per minute)', width: 12, stacked: true,
        left: TIERS.map((t) => byTier('Requests', t, 'Sum', minute)),
      }),
      new cw.GraphWidget({
        title: 'TTFT p95 by tier (ms)', width: 12,
        left: SERVING_TIERS.map((t) => byTier('TTFT', t, 'p95', minute)),
        leftAnnotations: [{ value: s.ttftSloMs, label: 'SLO', color: cw.Color.RED }],
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Availability (%)', width: 8,
        left: [availability(minute)],
        leftYAxis: { min: 95, max: 100 },
        leftAnnotations: [{ value: s.availabilityTarget, label: 'target', color: cw.Color.RED }],
      }),
      new cw.GraphWidget({
        title: 'Cost per minute vs cloud-only (USD)', width: 8,
        left: [costPerMinute, cloudOnlyPerMinute],
      }),
      new cw.GraphWidget({
        title: 'Judge spend (USD per minute)', width: 8,
        left: [judgeSpend],
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: '5xx rate at the load balancer (%)', width: 12, left: [fiveXxRate] }),
      new cw.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms: this.alarms }),
    );
    Tags.of(this).add('project', 'mecrouter');
  }
}
