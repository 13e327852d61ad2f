#!/bin/sh
":" //; case "${NODE_EXTRA_CA_CERTS+set}:$NODE_OPTIONS" in :*|*--use-openssl-ca*) ;; *) export SVCREG_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS;; esac; exec node "$0" "$@"
// Both a shell script and CommonJS. As a script (how `svcreg` runs), the line above starts
// Node on this file without NODE_EXTRA_CA_CERTS: with it, Node reads that file and its own
// root certificates before any code runs, 40 ms of every start with a system bundle (`node
// -e 0`: 59 -> 101 ms here), which only an https:// endpoint without --cacert needs. The CLI
// puts the variable back for the commands it runs and trusts the file there itself
// (src/cli/extra-ca.ts), beside Node's bundled roots: so not under NODE_OPTIONS=--use-openssl-ca,
// whose store only Node can extend. CommonJS (bin/package.json): an ES module stub costs ~8 ms more.
require('../dist/cli/svcreg-loader.cjs');
