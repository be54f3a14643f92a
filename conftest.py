"""Root conftest: loads the contract suite's pytest plugin for the suite and its self tests."""

pytest_plugins = ["contract_support.plugin"]
