"""SecretClient through set, get, list, delete and recover, backup and restore."""

from coffer_compat import client_options, credential_for, emit, error_of, read_settings

from azure.keyvault.secrets import SecretClient

settings = read_settings()
credential = credential_for(settings)
client = SecretClient(settings["vaultUrl"], credential, **client_options())
prefix = settings["prefix"]
results = {"apiVersion": client.api_version}

name = f"{prefix}-secret"
first = client.set_secret(name, "first-value", content_type="text/plain", tags={"suite": "python"})
second = client.set_secret(name, "second-value")
latest = client.get_secret(name)
by_version = client.get_secret(name, first.properties.version)
results["set"] = {
    "name": first.name,
    "value": first.value,
    "version": first.properties.version,
    "contentType": first.properties.content_type,
    "tags": first.properties.tags,
    "vaultUrl": first.properties.vault_url,
    "enabled": first.properties.enabled,
    "recoveryLevel": first.properties.recovery_level,
}
results["get"] = {"latest": latest.value, "latestVersion": latest.properties.version, "secondVersion": second.properties.version, "byVersion": by_version.value}

results["list"] = sorted(p.name for p in client.list_properties_of_secrets() if p.name.startswith(prefix))
results["versions"] = sorted(p.version for p in client.list_properties_of_secret_versions(name))

deleted = client.begin_delete_secret(name).result()
results["deleted"] = {
    "name": deleted.name,
    "hasRecoveryId": bool(deleted.recovery_id),
    "hasDeletedDate": deleted.deleted_date is not None,
    "hasPurgeDate": deleted.scheduled_purge_date is not None,
}
results["getWhileDeleted"] = error_of(lambda: client.get_secret(name))
results["listedDeleted"] = name in [d.name for d in client.list_deleted_secrets()]
recovered = client.begin_recover_deleted_secret(name).result()
results["recovered"] = {"name": recovered.name, "value": client.get_secret(name).value}

# A backup restores only where the name is free: delete and purge, then restore from the blob.
backup = client.backup_secret(name)
client.begin_delete_secret(name).result()
client.purge_deleted_secret(name)
restored = client.restore_secret_backup(backup)
results["restored"] = {
    "backupIsBytes": isinstance(backup, bytes) and len(backup) > 0,
    "name": restored.name,
    "value": client.get_secret(name).value,
    "versions": sorted(p.version for p in client.list_properties_of_secret_versions(name)),
}

results["missing"] = error_of(lambda: client.get_secret(f"{prefix}-never-set"))

# Challenge verification is really on: at https://localhost:<port> the challenge's resource
# (vault.localhost:<port>) is not a suffix of the host, and the SDK refuses before sending a token.
try:
    SecretClient(settings["localhostVaultUrl"], credential, **client_options()).get_secret(name)
    results["verification"] = "not enforced"
except ValueError as error:
    results["verification"] = str(error).split(". ")[0]
if hasattr(credential, "scopes_asked"):
    results["scopesAsked"] = credential.scopes_asked[:1]
emit(results)
