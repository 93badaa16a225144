"""Small interfaces over AWS (database, compute, state table, notifications, health
signals, DNS fallback) and their boto3 implementations.

Steps depend on the Protocols only. Where moto lacks a behaviour, a model named
``Modelled...`` sits beside the real implementation, behind the same interface, and
says in its docstring what it stands in for.
"""
