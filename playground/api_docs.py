"""The API page's words for each parameter, taken from the endpoint function's docstring.

Gradio 6 writes each parameter of the "Use via API" page as "The input value that is provided in the <label>
<component> component. <description>", where the label is the input component's (gr.api names them "1st", "2nd")
and the description is its api_info's "additional_description" (empty for a Textbox or a gr.api parameter). It
reads a docstring's "Args:" section only for MCP tools, and only each parameter's first line. So after the Blocks are built, describe_api() gives each
public endpoint's input components the parameter's name as label and its "Args:" line as description, and its
output the label "result", the type "str" where the function says it returns text, and what it returns in words.
The UI's own components are never touched: only those of the named endpoints, which are hidden from the page.
"""
from __future__ import annotations

import inspect



def parameter_docs(fn) -> dict[str, str]:
    """{parameter name: its description} from the function's Google-style "Args:" section: "name: text" lines,
    each continued by the more indented lines under it (Gradio's own parser keeps only the first line)."""
    lines = (inspect.getdoc(fn) or "").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in ("Args:", "Parameters:", "Arguments:")]
    if not starts:
        return {}
    docs, name, indent = {}, None, None
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent:                       # the section ended ("Returns:")
            break
        head, sep, text = line.strip().partition(":")
        if depth == indent and sep and head.isidentifier():
            name = head
            docs[name] = text.strip()
        elif name is not None:
            docs[name] += " " + line.strip()
    return docs


def _described(component, text: str):
    """A replacement for the component's api_info_as_input that adds the description (the page shows it)."""
    original = component.api_info_as_input

    def api_info_as_input() -> dict:
        return {**original(), "additional_description": text}
    return api_info_as_input


def return_doc(fn) -> str:
    """What the endpoint returns, in words: its docstring's "Returns:" section, else its first paragraph (these
    say what comes back: "Returns the status JSON", "This client's step, status ... as JSON")."""
    text = inspect.getdoc(fn) or ""
    head, sep, tail = text.partition("Returns:")
    if sep and head.endswith("\n"):
        return " ".join(line.strip() for line in tail.strip().split("\n\n")[0].splitlines())
    return " ".join(line.strip() for line in text.split("\n\n")[0].splitlines())


def _described_output(component, text: str, as_text: bool):
    """A replacement for the component's api_info_as_output with the description (and "str" for an endpoint
    declared to return text: gr.api's output component otherwise shows "Any" and "the 1st Api component")."""
    original = component.api_info_as_output

    def api_info_as_output() -> dict:
        info = {**original(), "description": text}
        if as_text:
            info["type"] = "string"
        return info
    return api_info_as_output


def describe_api(demo, names) -> list[str]:
    """Give the inputs of each named endpoint (api_name in ``names``) its parameter's name and description.
    Returns the "endpoint: parameter" pairs that have no description (a test keeps this empty)."""
    missing = []
    for block_fn in demo.fns.values():
        if block_fn.api_name not in names or block_fn.fn is None:
            continue
        docs = parameter_docs(block_fn.fn)
        params = [p.name for p in inspect.signature(block_fn.fn).parameters.values() if p.name != "request"]
        for name, component in zip(params, block_fn.inputs):
            text = docs.get(name)
            if not text:
                missing.append(f"{block_fn.api_name}: {name}")
                continue
            component.label = name
            component.api_info_as_input = _described(component, text)
        if len(block_fn.outputs) == 1:
            (component,), annotation = block_fn.outputs, inspect.signature(block_fn.fn).return_annotation
            component.label = "result"
            component.api_info_as_output = _described_output(component, return_doc(block_fn.fn),
                                                             annotation in (str, "str"))
    return missing
