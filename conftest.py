# Registers the smokeproof plugin (also registered under the same name by the package's pytest11
# entry point, so it loads once either way). Nothing else belongs here: contracts live in TOML.
pytest_plugins = ["smokeproof.plugin"]
