"""The security officer's Python steps of the managed HSM pool walk-through (README "Walk-through: a
managed HSM pool"; test/compat/pool-walkthrough.test.ts): a role assignment, a full backup and a full
restore, each through Microsoft's administration clients unmodified. `step` in the settings says which.
"""

from coffer_compat import credential_for, emit, plain, read_settings
from azure.keyvault.administration import KeyVaultAccessControlClient, KeyVaultBackupClient

s = read_settings()
credential = credential_for(s)
out = {}

if s["step"] == "grant":
    access = KeyVaultAccessControlClient(s["vaultUrl"], credential, retry_total=0)
    role = next(d for d in access.list_role_definitions("/") if d.role_name == s["roleName"])
    assignment = access.create_role_assignment(s["scope"], role.id, s["principalId"])
    out = {"scope": plain(assignment.properties.scope), "roleDefinitionId": assignment.properties.role_definition_id}
elif s["step"] == "backup":
    backup = KeyVaultBackupClient(s["vaultUrl"], credential, retry_total=0)
    # The SAS token is Azure Blob Storage's; Coffer's storage takes none and ignores it (README).
    result = backup.begin_backup(s["storageUrl"], "unused-sas-token", _polling_interval=0.2).result()
    out = {"folderUrl": result.folder_url}
elif s["step"] == "restore":
    backup = KeyVaultBackupClient(s["vaultUrl"], credential, retry_total=0)
    poller = backup.begin_restore(s["folderUrl"], "unused-sas-token", _polling_interval=0.2, **({"key_name": s["keyName"]} if s.get("keyName") else {}))
    poller.result()
    out = {"status": poller.status()}
else:
    raise SystemExit(f"unknown step {s['step']!r}")
emit(out)
