#!/usr/bin/env bash
# `make deploy-test`: compiles the CDK app in deploy/aws, runs its assertion tests
# (aws-cdk-lib/assertions) and synthesises it with the pinned aws-cdk CLI — offline, with no AWS
# credentials (docs/deploy-aws.md). Uses the Node that scripts/node.sh picks (>= 20), for the CLI
# and for the app it starts. MECROUTER_BIN, when set, lets the tests run `mecrouter config check`
# on the gateway configuration the app generates.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
node_bin="$("$root/scripts/node.sh" -p 'process.execPath')"
export PATH="$(dirname "$node_bin"):$PATH"
cd "$root/deploy/aws"
if [ ! -d node_modules/aws-cdk-lib ]; then
  echo "deploy-test: deploy/aws/node_modules is missing; run scripts/setup.sh" >&2
  exit 1
fi
export CDK_DISABLE_CLI_TELEMETRY=true
node node_modules/typescript/bin/tsc
node --test dist/test/
rm -rf cdk.out
node node_modules/aws-cdk/bin/cdk synth --quiet --no-notices
echo "deploy-test: synthesised $(ls cdk.out/*.template.json | wc -l) stacks into deploy/aws/cdk.out"
