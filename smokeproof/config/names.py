"""Names users type: the process-environment variables smokeproof reads (no imports: the plugin reads them at load)."""

DEFAULT_ENV = "demo"
ENV_VARIABLE = "SMOKEPROOF_ENV"
REVISION_VARIABLE = "SMOKEPROOF_EXPECTED_REVISION"
WAIT_VARIABLE = "SMOKEPROOF_WAIT_FOR_REVISION"
SHARD_VARIABLE = "SMOKEPROOF_SHARD"
