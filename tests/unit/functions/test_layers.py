"""Layers: zips merged under /opt in the function's order, on the paths Lambda puts them."""

import io
import os
import shutil
import stat
import tempfile
import zipfile

import pytest

from runtime.functions import FunctionSpec
from runtime.functions.layers import InvalidLayerZip, check_layer_zip, opt_dir


def zipped(files: dict, links: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
        for path, target in (links or {}).items():
            info = zipfile.ZipInfo(path)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def root():
    top = tempfile.mkdtemp(prefix="flowbench-test-layers-")
    os.chmod(top, 0o755)
    yield os.path.join(top, "packages")
    shutil.rmtree(top, ignore_errors=True)


def layer(files, links=None):
    data = zipped(files, links)
    return check_layer_zip(data)[0], data


def test_python_and_node_find_layer_code_where_lambda_puts_it(runner, root):
    first = layer({"python/shared.py": "WHO = 'first'\n", "python/only_first.py": "X = 1\n",
                   "nodejs/node_modules/greet/index.js": "module.exports = () => 'hi';\n",
                   "data/answer.txt": "41"})
    second = layer({"python/shared.py": "WHO = 'second'\n", "data/answer.txt": "42"})
    opt = opt_dir(root, [first, second])
    spec = FunctionSpec(name="layers-py", runtime="python", handler="app.handler", layers=opt,
                        files={"app.py": "import shared, only_first\n\ndef handler(e, c):\n"
                                         "    import os\n    root = os.environ['LAMBDA_LAYERS_ROOT']\n"
                                         "    return [shared.WHO, only_first.X,\n"
                                         "            open(root + '/data/answer.txt').read()]\n"})
    inv = runner.invoke(spec, {})
    assert inv.error is None, inv.error
    assert inv.payload == ["second", 1, "42"]   # later layers over earlier ones
    node = FunctionSpec(name="layers-node", runtime="nodejs", handler="index.handler", layers=opt,
                        files={"index.js": "const greet = require('greet');\n"
                                           "exports.handler = async () => greet();\n"})
    inv = runner.invoke(node, {})
    assert inv.error is None, inv.error
    assert inv.payload == "hi"


def test_the_bubblewrap_sandbox_mounts_layers_read_only_at_opt(root):
    from runtime.functions import FunctionRunner

    opt = opt_dir(root, [layer({"python/mark.py": "M = 1\n"})])
    spec = FunctionSpec(name="layers-opt", runtime="python", handler="app.handler", layers=opt,
                        files={"app.py": "import mark\n\ndef handler(e, c):\n"
                                         "    try:\n        open('/opt/python/x', 'w')\n"
                                         "    except OSError as exc:\n        refused = True\n"
                                         "    else:\n        refused = False\n"
                                         "    return [mark.__file__, refused]\n"})
    with FunctionRunner(backend="bubblewrap") as own:
        inv = own.invoke(spec, {})
    assert inv.error is None, inv.error
    assert inv.payload == ["/opt/python/mark.py", True]


@pytest.mark.parametrize("files, links, named", [
    ({"../escape.py": "x"}, None, "../escape.py"),
    ({"/etc/passwd": "x"}, None, "/etc/passwd"),
    ({"python/ok.py": "x"}, {"python/out": "../../../etc"}, "python/out"),
])
def test_zips_escaping_their_root_are_refused_naming_the_path(files, links, named):
    with pytest.raises(InvalidLayerZip) as caught:
        check_layer_zip(zipped(files, links))
    assert named in str(caught.value)


def test_a_symlink_inside_the_layer_is_kept(root):
    sha, data = layer({"bin/tool": "echo hi"}, {"bin/alias": "tool"})
    opt = opt_dir(root, [(sha, data)])
    assert os.readlink(os.path.join(opt, "bin/alias")) == "tool"


def test_a_corrupt_or_oversized_zip_is_refused():
    with pytest.raises(InvalidLayerZip):
        check_layer_zip(b"not a zip")
    with pytest.raises(InvalidLayerZip) as caught:
        check_layer_zip(b"x" * (50 * 1024 * 1024 + 1))
    assert "Zipped size" in str(caught.value)
