"""The API page ("Use via API") describes every parameter of every public endpoint in words (issue 15: it showed
"The input value that is provided in the 1st Api component." and nothing else)."""
from playground.api_docs import parameter_docs


def test_docstring_args_with_continuation_lines():
    def f(kind: str, n: int = 1, request=None):
        """Take steps.

        Args:
            kind: "both", "d"
                or "g".
            n: how many: a whole number.

        Returns:
            the status.
        """
    assert parameter_docs(f) == {"kind": '"both", "d" or "g".', "n": "how many: a whole number."}


def test_every_public_parameter_is_described(tmp_path):
    from playground.app import PUBLIC_API, Playground, build_demo
    from playground.settings import Settings
    demo = build_demo(Playground(Settings(save_dir=str(tmp_path), allow_downloads=False)))
    info = demo.get_api_info()["named_endpoints"]
    assert {f"/{name}" for name in PUBLIC_API} <= set(info)
    params = 0
    for endpoint, spec in info.items():
        assert spec["description"], endpoint
        for p in spec["parameters"]:
            params += 1
            assert p["label"] == p["parameter_name"], (endpoint, p["label"])
            text = p["python_type"]["description"]
            assert len(text) > 20 and "FileData" not in text, (endpoint, p["parameter_name"], text)
    assert params == 15   # start 1, set_knobs 1, step 2, generate 4, translate 3, branch 4
    for endpoint, spec in info.items():   # what comes back, in words (was "Any: the output value that appears in
        (ret,) = spec["returns"]          # the 1st Api component")
        assert ret["label"] == "result" and len(ret["python_type"]["description"]) > 15, (endpoint, ret)
    assert info["/step"]["returns"][0]["python_type"]["type"] == "str"
    assert "status JSON" in info["/step"]["returns"][0]["python_type"]["description"]
