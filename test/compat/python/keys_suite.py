"""KeyClient through creating RSA and EC keys, reading them back and listing them."""

from coffer_compat import client_options, credential_for, emit, error_of, plain, read_settings

from azure.keyvault.keys import KeyClient, KeyCurveName

settings = read_settings()
credential = credential_for(settings)
client = KeyClient(settings["vaultUrl"], credential, **client_options())
prefix = settings["prefix"]
# The Debian KeyClient's default api-version is a preview (7.4-preview.1): Coffer must answer it.
results = {"apiVersion": client.api_version}


def described(key):
    return {
        "name": key.name,
        "keyType": plain(key.key_type),
        "version": key.properties.version,
        "enabled": key.properties.enabled,
        "operations": sorted(plain(op) for op in key.key_operations),
        "vaultUrl": key.properties.vault_url,
        "recoveryLevel": key.properties.recovery_level,
    }


rsa = client.create_rsa_key(f"{prefix}-rsa", size=2048, tags={"suite": "python"})
results["rsa"] = {**described(rsa), "modulusBytes": len(rsa.key.n), "exponent": rsa.key.e.hex(), "tags": rsa.properties.tags}

ec = client.create_ec_key(f"{prefix}-ec", curve=KeyCurveName.p_256)
results["ec"] = {**described(ec), "curve": plain(ec.key.crv), "xBytes": len(ec.key.x), "yBytes": len(ec.key.y)}

fetched = client.get_key(rsa.name)
results["get"] = {
    "sameVersion": fetched.properties.version == rsa.properties.version,
    "sameModulus": fetched.key.n == rsa.key.n,
    "byVersion": client.get_key(ec.name, ec.properties.version).properties.version == ec.properties.version,
}

results["list"] = sorted(p.name for p in client.list_properties_of_keys() if p.name.startswith(prefix))
second = client.create_rsa_key(rsa.name, size=3072)
results["versions"] = {
    "count": len(list(client.list_properties_of_key_versions(rsa.name))),
    "latestModulusBytes": len(client.get_key(rsa.name).key.n),
    "latestIsSecond": client.get_key(rsa.name).properties.version == second.properties.version,
}
results["missing"] = error_of(lambda: client.get_key(f"{prefix}-never-created"))
emit(results)
