#!/usr/bin/env bash
# Tries jobs end to end against a running Rampart and a vSphere endpoint (VMware's
# simulator from test/fixtures/vcsim, or a real vCenter):
#   RAMPART_ADMIN_PASSWORD=… bash scripts/try-backup.sh https://localhost:9419 127.0.0.1:8989 <vSphere password> [vSphere user]
# Adds the vCenter as a managed server, a repository folder on the backup server, a job
# backing up the first VM, runs it, and lists the restore points and their disks.
set -euo pipefail
api="${1:?Rampart URL, e.g. https://localhost:9419}"
vc="${2:?vSphere host:port, e.g. 127.0.0.1:8989}"
vc_password="${3:?vSphere password}"
vc_user="${4:-administrator@vsphere.local}"
vc_host="${vc%:*}"
vc_port="${vc##*:}"
folder="${RAMPART_TRY_FOLDER:-$PWD/data/try-backup-repository}"
V='x-api-version: 1.1-rev0'

token=$(curl -sfk "$api/api/oauth2/token" -H "$V" -d grant_type=password -d username=administrator \
  --data-urlencode "password=${RAMPART_ADMIN_PASSWORD:?set RAMPART_ADMIN_PASSWORD}" | jq -r .access_token)
call() { curl -sk -X "$1" "$api$2" -H "$V" -H "Authorization: Bearer $token" -H 'content-type: application/json' ${3:+-d "$3"}; }
wait_session() {
  local id="$1" state
  for _ in $(seq 1 600); do
    state=$(call GET "/api/v1/sessions/$id" | jq -r .state)
    [ "$state" = Stopped ] && break
    sleep 0.5
  done
  call GET "/api/v1/sessions/$id" | jq -c '{name, sessionType, result: .result.result, message: .result.message}'
}

thumbprint=$(openssl s_client -connect "$vc" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1 | cut -d= -f2)
echo "vSphere certificate SHA-1: $thumbprint"
creds=$(call POST /api/v1/credentials "$(jq -nc --arg u "$vc_user" --arg p "$vc_password" '{type:"Standard", username:$u, password:$p, description:"try-backup"}')" | jq -r .id)
session=$(call POST /api/v1/backupInfrastructure/managedServers \
  "$(jq -nc --arg n "$vc_host" --arg c "$creds" --arg t "$thumbprint" --argjson p "$vc_port" '{type:"ViHost", name:$n, description:"try-backup", credentialsId:$c, port:$p, certificateThumbprint:$t}')" | jq -r .id)
echo "Adding $vc_host: $(wait_session "$session")"

server=$(call GET /api/v1/backupInfrastructure/managedServers | jq -r '.data[] | select(.isBackupServer) | .id')
session=$(call POST /api/v1/backupInfrastructure/repositories \
  "$(jq -nc --arg h "$server" --arg f "$folder" '{type:"LinuxLocal", name:"try-backup", description:"try-backup", hostId:$h, repository:{path:$f}, mountServer:{mountServerId:$h, writeCacheFolder:"/var/cache", vPowerNFSEnabled:false}}')")
repository=$(jq -r .resourceId <<<"$session")
echo "Adding repository $folder: $(wait_session "$(jq -r .id <<<"$session")")"

vm=$(call GET "/api/v1/inventory/vmware/hosts/$vc_host?typeFilter=VirtualMachine&limit=1" | jq -c '.data[0].inventoryObject')
echo "Backing up $vm"
job=$(call POST /api/v1/jobs "$(jq -nc --arg r "$repository" --argjson vm "$vm" '{type:"Backup", name:"try-backup", description:"", isHighPriority:"false",
  virtualMachines:{includes:[$vm]}, storage:{backupRepositoryId:$r, backupProxies:{autoSelection:"true"}, retentionPolicy:{type:"RestorePoints", quantity:7}},
  guestProcessing:{appAwareProcessing:{isEnabled:"false"}, guestFSIndexing:{isEnabled:"false"}}, schedule:{runAutomatically:"false"}}')" | jq -r .id)
for run in full incremental; do
  session=$(call POST "/api/v1/jobs/$job/start" '{"performActiveFull":false}' | jq -r .id)
  echo "Run ($run): $(wait_session "$session")"
  call GET "/api/v1/sessions/$session/logs" | jq -r '.records | reverse | .[] | "  \(.status): \(.title)"'
done
echo "Restore points:"
call GET /api/v1/objectRestorePoints | jq -c '.data[] | {id, name, creationTime}'
point=$(call GET /api/v1/objectRestorePoints | jq -r '.data[0].id')
call GET "/api/v1/objectRestorePoints/$point/disks" | jq -c '.data[]'
