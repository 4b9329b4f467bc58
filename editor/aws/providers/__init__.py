"""One provider per AWS service: a class with one method per operation, named as AWS names it,
taking the parsed parameters (a dict of the input shape's members) and returning a dict of the
output shape, calling editor/services for everything it does (editor.aws.providers.base)."""
