"""Root conftest: loads the contract suite's pytest plugins for the suite and its self tests.

Each plugin module covers one concern, and ``contract_support.plugin`` owns the options, the
environment and the fixtures that the others build on.
"""

pytest_plugins = [
    "contract_support.plugin",
    "contract_support.budget_plugin",
    "contract_support.report_plugin",
    "contract_support.safety_plugin",
]
