"""Support package of the Get Customers Bulk contract suite.

It contains the environment loader, the HTTP client and its authentication, the JSON Schema
validation and contract checks, the report attachments and the embedded sandbox server.
"""
