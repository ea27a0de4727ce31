// Azure cloud environments as KEDA resolves the `cloud` trigger metadata. Only the
// workload-identity path of the Service Bus trigger reads them.

/** The fields of an Azure environment the scalers here need. */
export interface AzureEnvironment {
  name: string;
  serviceBusEndpointSuffix: string;
}

/** Known clouds, keyed by upper-cased name (KEDA looks names up case-insensitively). */
export const AZURE_ENVIRONMENTS: Readonly<Record<string, AzureEnvironment>> = Object.freeze({
  AZUREPUBLICCLOUD: { name: "AzurePublicCloud", serviceBusEndpointSuffix: "servicebus.windows.net" },
  AZUREUSGOVERNMENTCLOUD: { name: "AzureUSGovernmentCloud", serviceBusEndpointSuffix: "servicebus.usgovcloudapi.net" },
  AZURECHINACLOUD: { name: "AzureChinaCloud", serviceBusEndpointSuffix: "servicebus.chinacloudapi.cn" },
  AZUREGERMANCLOUD: { name: "AzureGermanCloud", serviceBusEndpointSuffix: "servicebus.cloudapi.de" },
});

export const PUBLIC_CLOUD = AZURE_ENVIRONMENTS.AZUREPUBLICCLOUD!;
export const PRIVATE_CLOUD = "Private";
export const DEFAULT_ENDPOINT_SUFFIX_KEY = "endpointSuffix";

/** Options for resolving environments without I/O. */
export interface CloudOptions {
  /**
   * The environment KEDA would load from AZURE_ENVIRONMENT_FILEPATH for `AzureStackCloud`. When
   * absent, AzureStackCloud is invalid (as when KEDA cannot read that file).
   */
  azureStackEnvironment?: AzureEnvironment;
}

/** KEDA's EnvironmentFromName: case-insensitive lookup; undefined when unknown. */
export function environmentFromName(name: string, options: CloudOptions = {}): AzureEnvironment | undefined {
  if (name.toUpperCase() === "AZURESTACKCLOUD") return options.azureStackEnvironment;
  return AZURE_ENVIRONMENTS[name.toUpperCase()];
}

/**
 * KEDA's ParseEnvironmentProperty. `cloud` unset/empty → public cloud; `Private` (any case) → the
 * value of `metadata[propertyKey]` (required); a known cloud → provider(env); otherwise throws
 * `invalid cloud environment <cloud>`. Values are read raw (KEDA does not trim these two keys).
 * Errors thrown by the provider propagate unchanged.
 */
export function parseEnvironmentProperty(
  metadata: Readonly<Record<string, string | undefined>>,
  propertyKey: string,
  provider: (env: AzureEnvironment) => string,
  options: CloudOptions = {},
): string {
  const cloud = metadata.cloud;
  if (cloud === undefined || cloud === "") return provider(PUBLIC_CLOUD);
  if (cloud.toLowerCase() === PRIVATE_CLOUD.toLowerCase()) {
    const value = metadata[propertyKey];
    if (value !== undefined && value !== "") return value;
    throw new Error(`${propertyKey} must be provided for ${PRIVATE_CLOUD} cloud type`);
  }
  const env = environmentFromName(cloud, options);
  if (!env) throw new Error(`invalid cloud environment ${cloud}`);
  return provider(env);
}
