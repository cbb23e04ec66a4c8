#!/bin/bash
# Lets the containerd under STATE_DIR pull from HOST:PORT over plain HTTP (a registry on loopback).
# containerd reads certs.d/<host>/hosts.toml at every pull, so this works while it runs.
# usage: add-insecure-registry.sh STATE_DIR HOST:PORT
set -euo pipefail
D=${1:?usage: add-insecure-registry.sh STATE_DIR HOST:PORT}; R=${2:?usage: add-insecure-registry.sh STATE_DIR HOST:PORT}
mkdir -p "$D/certs.d/$R"
cat > "$D/certs.d/$R/hosts.toml" <<CONF
server = "http://$R"
[host."http://$R"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
CONF
