"""The bridge between the States Language engine and the function runner: Task states'
`lambda:invoke` and function ARNs run real functions through `LambdaInvoker`."""

from .lambda_invoker import LambdaInvoker

__all__ = ["LambdaInvoker"]
