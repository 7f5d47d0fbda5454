import type {
  CancelKeyDeletionCommandInput,
  CancelKeyDeletionCommandOutput,
  CreateKeyCommandInput,
  CreateKeyCommandOutput,
  DecryptCommandInput,
  DecryptCommandOutput,
  DisableKeyCommandInput,
  DisableKeyCommandOutput,
  EnableKeyCommandInput,
  EnableKeyCommandOutput,
  GenerateDataKeyCommandInput,
  GenerateDataKeyCommandOutput,
  GenerateRandomCommandInput,
  GenerateRandomCommandOutput,
  GetParametersForImportCommandInput,
  GetParametersForImportCommandOutput,
  GetPublicKeyCommandInput,
  GetPublicKeyCommandOutput,
  ImportKeyMaterialCommandInput,
  ImportKeyMaterialCommandOutput,
  ScheduleKeyDeletionCommandInput,
  ScheduleKeyDeletionCommandOutput,
  SignCommandInput,
  SignCommandOutput,
} from '@aws-sdk/client-kms';
import { type AwsClientOptions, AwsJsonClient, AwsServiceError } from './aws-json.ts';

/**
 * A KMS client with the API of `@aws-sdk/client-kms` for the operations Coffer uses:
 * `client.send(new DecryptCommand({...}))`, blobs as bytes both ways, timestamps as Dates, and the
 * service's errors as KMSServiceException with the SDK's `name` and `$fault`. The transport is
 * aws-json.ts.
 */

/** Every error KMS answers: `name` is its code (`InvalidCiphertextException`, `NotFoundException`...). */
export class KMSServiceException extends AwsServiceError {}

/** The members of an answer that are blobs (base64 on the wire) and timestamps (epoch seconds). */
interface Shape {
  blobs?: string[];
  dates?: string[];
  /** Members holding a KeyMetadata structure, whose dates are converted too. */
  metadata?: string[];
}

const KEY_METADATA_DATES = ['CreationDate', 'DeletionDate', 'ValidTo'];

abstract class KmsCommand<Input, Output> {
  abstract readonly operation: string;
  readonly shape: Shape = {};
  constructor(readonly input: Input) {}
  /** Only narrows the answer's type: the conversion is the shape's. */
  declare readonly output?: Output;
}

export class CreateKeyCommand extends KmsCommand<CreateKeyCommandInput, CreateKeyCommandOutput> {
  readonly operation = 'CreateKey';
  override readonly shape = { metadata: ['KeyMetadata'] };
}
export class GenerateDataKeyCommand extends KmsCommand<GenerateDataKeyCommandInput, GenerateDataKeyCommandOutput> {
  readonly operation = 'GenerateDataKey';
  override readonly shape = { blobs: ['Plaintext', 'CiphertextBlob', 'CiphertextForRecipient'] };
}
export class DecryptCommand extends KmsCommand<DecryptCommandInput, DecryptCommandOutput> {
  readonly operation = 'Decrypt';
  override readonly shape = { blobs: ['Plaintext', 'CiphertextForRecipient'] };
}
export class SignCommand extends KmsCommand<SignCommandInput, SignCommandOutput> {
  readonly operation = 'Sign';
  override readonly shape = { blobs: ['Signature'] };
}
export class GetPublicKeyCommand extends KmsCommand<GetPublicKeyCommandInput, GetPublicKeyCommandOutput> {
  readonly operation = 'GetPublicKey';
  override readonly shape = { blobs: ['PublicKey'] };
}
export class GenerateRandomCommand extends KmsCommand<GenerateRandomCommandInput, GenerateRandomCommandOutput> {
  readonly operation = 'GenerateRandom';
  override readonly shape = { blobs: ['Plaintext', 'CiphertextForRecipient'] };
}
export class GetParametersForImportCommand extends KmsCommand<GetParametersForImportCommandInput, GetParametersForImportCommandOutput> {
  readonly operation = 'GetParametersForImport';
  override readonly shape = { blobs: ['ImportToken', 'PublicKey'], dates: ['ParametersValidTo'] };
}
export class ImportKeyMaterialCommand extends KmsCommand<ImportKeyMaterialCommandInput, ImportKeyMaterialCommandOutput> {
  readonly operation = 'ImportKeyMaterial';
}
export class EnableKeyCommand extends KmsCommand<EnableKeyCommandInput, EnableKeyCommandOutput> {
  readonly operation = 'EnableKey';
}
export class DisableKeyCommand extends KmsCommand<DisableKeyCommandInput, DisableKeyCommandOutput> {
  readonly operation = 'DisableKey';
}
export class ScheduleKeyDeletionCommand extends KmsCommand<ScheduleKeyDeletionCommandInput, ScheduleKeyDeletionCommandOutput> {
  readonly operation = 'ScheduleKeyDeletion';
  override readonly shape = { dates: ['DeletionDate'] };
}
export class CancelKeyDeletionCommand extends KmsCommand<CancelKeyDeletionCommandInput, CancelKeyDeletionCommandOutput> {
  readonly operation = 'CancelKeyDeletion';
}

export class KMSClient {
  private readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions) {
    this.client = new AwsJsonClient(
      {
        signingName: 'kms',
        endpointId: 'KMS',
        targetPrefix: 'TrentService',
        jsonVersion: '1.1',
        errors: KMSServiceException,
        dependency: 'key management service',
        // KMS's rate limits answer ThrottlingException (a 429 after the retries); its
        // LimitExceededException is a resource quota (keys, grants, aliases in the account), which
        // no retry within a request lifts: a 503 at once, for the operator to raise.
        classify: (error) => (error.name === 'LimitExceededException' ? 'quota' : undefined),
      },
      options,
    );
  }

  async send<Input, Output>(command: KmsCommand<Input, Output>): Promise<Output> {
    const output = await this.client.call(command.operation, command.input);
    return { ...convert(output, command.shape), $metadata: {} } as Output;
  }

  destroy(): void {
    this.client.destroy();
  }
}

function convert(output: Record<string, unknown>, shape: Shape): Record<string, unknown> {
  const converted = { ...output };
  for (const member of shape.blobs ?? []) {
    const value = converted[member];
    if (typeof value === 'string') {
      const buffer = Buffer.from(value, 'base64');
      converted[member] = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
  }
  for (const member of shape.dates ?? []) converted[member] = date(converted[member]);
  for (const member of shape.metadata ?? []) {
    const metadata = converted[member];
    if (metadata && typeof metadata === 'object') converted[member] = convert(metadata as Record<string, unknown>, { dates: KEY_METADATA_DATES });
  }
  return converted;
}

function date(value: unknown): unknown {
  return typeof value === 'number' ? new Date(value * 1000) : value;
}
