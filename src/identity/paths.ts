// The loopback identity endpoints' paths and the secret file they take, in a module without dependencies: the
// `az` of `eventjobs shellenv` (cli/az.ts) imports them and must start fast (credentials give it seconds).

export const EXEC_PATH = "/msi/exec";
/** where the `az` of `eventjobs shellenv` gets the developer's tokens (same secret as EXEC_PATH) */
export const CLI_TOKEN_PATH = "/msi/cli-token";
/** the file (0600) in <data-dir>/identity holding the secret `eventjobs exec` and that `az` present */
export const EXEC_TOKEN_FILE = "exec-token";
