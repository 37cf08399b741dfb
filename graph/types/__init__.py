"""Strawberry types, one module per type.

Plain fields and the purity rule. A field with no permission or other field extension that is
either an attribute or a method taking only `self` (no arguments, no `info`, not `async`) is
"plain": the fast executor (graph/execution.py) reads it directly, outside graphql-core's
resolver machinery, so no extension's `resolve` hook and no field middleware sees the call.
Such a method must therefore be a cheap, pure function of its object: no writes, no I/O of
its own, no dependence on anything but `self`, the same answer however often it is called.
It may hand back an awaitable (a log's `apiKey` returns a dataloader's load when the key was
not preloaded); graphql-core then awaits and completes it. A method that needs the request
(the viewer, the loaders, arguments) takes `info` or arguments and so runs on graphql-core's
path, as does any field guarded by a permission (`extensions=require(...)`).
"""
