"""The constants the example migrations import, as an app's cli module would hold them."""

EXPAND_BRANCH = "expand"
CONTRACT_BRANCH = "contract"
