#!/usr/bin/env node
// The CDK app: `npx cdk synth` (offline) or `npx cdk deploy --all -c account=... -c region=...`.
import { App } from 'aws-cdk-lib';
import { buildMecrouter } from '../lib/mecrouter-app';

const app = new App();
buildMecrouter(app);
app.synth();
