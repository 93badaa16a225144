#!/bin/bash
# Boot script of the byo-example environment (workload.user_data_file in byo-example.toml).
# It runs once, as root, at the instance's first boot. The AMI (workload.image_ids) already
# holds the application: /opt/ledger and its systemd unit ledger.service. This script only
# tells the app where it runs, then starts it. The app must serve, on port 8080:
#   GET /healthz       200 while the process answers (the load balancer's target health)
#   GET /healthz/deep  5xx when its database is unreachable from this region, or read-only
#                      while this region is the active one (Route 53 and the monitor)
set -euo pipefail

imds() {
  local token
  token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  curl -sf -H "X-aws-ec2-metadata-token: ${token}" "http://169.254.169.254/latest/$1"
}

region=$(imds meta-data/placement/region)
install -d -m 0755 /etc/ledger
cat > /etc/ledger/environment <<SETTINGS
LEDGER_PORT=8080
LEDGER_REGION=${region}
LEDGER_SHALLOW_HEALTH_PATH=/healthz
LEDGER_DEEP_HEALTH_PATH=/healthz/deep
SETTINGS
systemctl enable --now ledger.service
