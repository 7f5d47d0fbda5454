"""CryptographyClient: RSA-OAEP encrypt and decrypt, ES256 and PS256 sign and verify, key wrap and unwrap.

Run twice. As configured by default, the SDK reads the key and does the public-key half (encrypt,
verify, wrap) itself and the private half (decrypt, sign, unwrap) in the vault, so each round trip
checks that the vault's JWK agrees with the SDK's own cryptography. Then, told by a 403 on its key
download (the SDK's documented fallback for a caller without keys/get), it does every operation in
the vault; a pipeline policy records that each one really went over the wire.
"""

import hashlib
import os
import re
from urllib.parse import urlparse

from coffer_compat import client_options, credential_for, emit, plain, read_settings

from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.pipeline.transport import HttpResponse
from azure.keyvault.keys import KeyClient, KeyCurveName
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm


class _Forbidden(HttpResponse):
    def __init__(self, request):
        super().__init__(request, None)
        self.status_code = 403
        self.reason = "Forbidden"
        self.content_type = "application/json"
        self.headers = {"content-type": "application/json"}

    def body(self):
        return b'{"error":{"code":"Forbidden","message":"remote only"}}'


class Recorder(HTTPPolicy):
    """Records the operation (last path segment) of every request the client sends; with
    refuse_key_download, answers the key download with 403 instead of sending it."""

    def __init__(self, refuse_key_download: bool):
        super().__init__()
        self.refuse_key_download = refuse_key_download
        self.sent = set()

    def send(self, request):
        http = request.http_request
        path = urlparse(http.url).path
        if http.method == "GET" and re.fullmatch(r"/keys/[^/]+/[^/]*", path):
            if self.refuse_key_download:
                return PipelineResponse(http, _Forbidden(http), request.context)
            self.sent.add("GET key")
            return self.next.send(request)
        self.sent.add(f"{http.method} {path.rsplit('/', 1)[-1]}")
        return self.next.send(request)


settings = read_settings()
credential = credential_for(settings)
options = client_options()
keys = KeyClient(settings["vaultUrl"], credential, **options)
prefix = settings["prefix"]
rsa = keys.create_rsa_key(f"{prefix}-crypto-rsa", size=2048)
ec = keys.create_ec_key(f"{prefix}-crypto-ec", curve=KeyCurveName.p_256)


def round_trips(make_client):
    rsa_crypto = make_client(rsa.id)
    ec_crypto = make_client(ec.id)
    out = {}

    plaintext = b"coffer python compat " + os.urandom(16)
    for label, algorithm in [("rsaOaep", EncryptionAlgorithm.rsa_oaep), ("rsaOaep256", EncryptionAlgorithm.rsa_oaep_256)]:
        encrypted = rsa_crypto.encrypt(algorithm, plaintext)
        decrypted = rsa_crypto.decrypt(algorithm, encrypted.ciphertext)
        out[label] = {
            "keyId": encrypted.key_id,
            "ciphertextBytes": len(encrypted.ciphertext),
            "roundTrip": decrypted.plaintext == plaintext,
            "decryptKeyId": decrypted.key_id,
        }

    digest = hashlib.sha256(b"signed by the vault").digest()
    other = hashlib.sha256(b"not what was signed").digest()
    for label, client, algorithm in [("es256", ec_crypto, SignatureAlgorithm.es256), ("ps256", rsa_crypto, SignatureAlgorithm.ps256)]:
        signed = client.sign(algorithm, digest)
        out[label] = {
            "keyId": signed.key_id,
            "signatureBytes": len(signed.signature),
            "algorithm": plain(signed.algorithm),
            "verifies": client.verify(algorithm, digest, signed.signature).is_valid,
            "otherDigestVerifies": client.verify(algorithm, other, signed.signature).is_valid,
        }

    key_to_wrap = os.urandom(32)
    wrapped = rsa_crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep, key_to_wrap)
    unwrapped = rsa_crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep, wrapped.encrypted_key)
    out["wrap"] = {
        "keyId": wrapped.key_id,
        "encryptedKeyBytes": len(wrapped.encrypted_key),
        "roundTrip": unwrapped.key == key_to_wrap,
        "algorithm": plain(wrapped.algorithm),
    }
    return out


results = {"keys": {"rsa": rsa.id, "ec": ec.id}}
for mode, recorder in [("local", Recorder(refuse_key_download=False)), ("remote", Recorder(refuse_key_download=True))]:
    results[mode] = round_trips(lambda key_id: CryptographyClient(key_id, credential, per_call_policies=[recorder], **options))
    results[mode]["sent"] = sorted(recorder.sent)
emit(results)
