"""Tests of the ``community.windows.win_xml`` model and its XPath evaluator."""

from __future__ import annotations

import pytest
from winsim_files_support import fresh, run

from winsim import state as st
from winsim.models import features
from winsim.models import xml as winxml
from winsim.models._base import MODELS

XML = "community.windows.win_xml"
CFG = features.APPHOST
HEADERS = "/configuration/system.webServer/httpProtocol/customHeaders"


def _host():
    state = fresh()
    st.make_dirs(state, st.parent(CFG), "2026-01-10T00:00:00Z")
    st.write_file(state, CFG, features.APPHOST_TEMPLATE.replace("\n", "\r\n").encode("utf-8"), "2026-01-10T00:00:00Z")
    return state


def _doc(state):
    return winxml.load_document(st.read_file(state, CFG), False)


def _select(state, xpath):
    return winxml.XPath(xpath).select(_doc(state))


def test_model_names_upstream_version():
    assert MODELS[XML].upstream == "community.windows 3.3.0"


def test_remove_x_powered_by_check_apply_idempotent():
    state = _host()
    args = {"path": CFG, "xpath": f"{HEADERS}/add[@name='X-Powered-By']", "state": "absent"}
    checked = run(XML, state, check=True, **args)
    assert checked["changed"] is False  # upstream only flags element removal outside check mode
    assert checked.untouched
    applied = run(XML, state, **args)
    assert applied["changed"] is True
    assert applied["msg"] == "element removed"
    assert _select(state, f"{HEADERS}/add") == []
    again = run(XML, state, **args)
    assert again["changed"] is False
    assert again["msg"].startswith("The supplied xpath did not match any nodes.")


def test_add_fragment_element_check_apply_idempotent():
    state = _host()
    args = {"path": CFG, "xpath": HEADERS, "fragment": '<remove name="X-Powered-By" />'}
    checked = run(XML, state, check=True, **args)
    assert checked["changed"] is True
    assert checked["msg"] == "not changedxml added  check mode"
    assert checked.untouched
    applied = run(XML, state, **args)
    assert applied["changed"] is True
    assert applied["msg"] == "element changed"
    assert [n.getAttribute("name") for n in _select(state, f"{HEADERS}/remove")] == ["X-Powered-By"]
    assert run(XML, state, **args)["changed"] is False


@pytest.mark.parametrize(("xpath", "attribute", "value"), [
    ("/configuration/system.webServer/security/requestFiltering", "removeServerHeader", "true"),
    ("/configuration/system.webServer/directoryBrowse", "enabled", "false"),
    ("/configuration/system.webServer/security/requestFiltering/requestLimits", "maxAllowedContentLength",
     "52428800"),
])
def test_set_attribute_check_apply_idempotent(xpath, attribute, value):
    state = _host()
    args = {"path": CFG, "xpath": xpath, "type": "attribute", "attribute": attribute, "fragment": value}
    first_checked = run(XML, state, check=True, **args)
    assert first_checked.untouched
    applied = run(XML, state, **args)
    assert applied["changed"] is first_checked["changed"]
    assert _select(state, xpath)[0].getAttribute(attribute) == value
    assert run(XML, state, **args)["changed"] is False


def test_saved_file_keeps_declaration_comment_bom_and_crlf():
    state = _host()
    run(XML, state, path=CFG, xpath="/configuration/system.webServer/security/requestFiltering", type="attribute",
        attribute="removeServerHeader", fragment="true")
    data = st.read_file(state, CFG)
    assert data.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\r\n<!--')
    assert b'<requestFiltering removeServerHeader="true">\r\n' in data
    assert b'    <directoryBrowse enabled="false" />\r\n' in data
    assert b'    <globalModules></globalModules>\r\n' in data  # XmlElement.IsEmpty is kept


def test_text_type_and_count():
    state = fresh()
    st.write_file(state, "C:\\Windows\\Temp\\a.xml", b"<a><b>1</b><b>2</b></a>", "2026-01-10T00:00:00Z")
    counted = run(XML, state, path="C:\\Windows\\Temp\\a.xml", xpath="/a/b", count=True)
    assert counted["count"] == 2
    assert counted["changed"] is False
    res = run(XML, state, path="C:\\Windows\\Temp\\a.xml", xpath="/a/b[2]", type="text", fragment="3")
    assert res["changed"] is True
    assert st.read_file(state, "C:\\Windows\\Temp\\a.xml") == b"\xef\xbb\xbf<a>\r\n  <b>1</b>\r\n  <b>3</b>\r\n</a>"


def test_content_returns_matches():
    state = _host()
    res = run(XML, state, path=CFG, xpath=f"{HEADERS}/add", content="attribute")
    assert res["matches"] == [{"add": {"name": "X-Powered-By", "value": "ASP.NET"}}]


def test_backup_file_created():
    state = _host()
    res = run(XML, state, path=CFG, xpath="/configuration/system.webServer/directoryBrowse", type="attribute",
              attribute="enabled", fragment="true", backup=True)
    assert res["backup_file"].startswith(CFG + ".")
    assert res["backup_file"].endswith(".20260302-143015.bak")
    assert st.read_file(state, res["backup_file"]) == features.APPHOST_TEMPLATE.replace("\n", "\r\n").encode()


@pytest.mark.parametrize(("args", "msg"), [
    ({"path": "C:\\nope.xml", "xpath": "/a"}, "Specified path C:\\nope.xml does not exist or is not a file."),
])
def test_failures(args, msg):
    res = run(XML, _host(), **args)
    assert res["failed"] is True
    assert res["msg"] == msg


def test_unparsable_file_fails():
    state = fresh()
    st.write_file(state, "C:\\Windows\\Temp\\bad.xml", b"<a><b></a>", "2026-01-10T00:00:00Z")
    res = run(XML, state, path="C:\\Windows\\Temp\\bad.xml", xpath="/a")
    assert res["msg"].startswith("Failed to parse file at 'C:\\Windows\\Temp\\bad.xml' as an XML document: ")


def test_default_namespace_needs_prefix_like_selectnodes():
    state = fresh()
    st.write_file(state, "C:\\Windows\\Temp\\n.xml", b'<a xmlns="urn:x"><b/></a>', "2026-01-10T00:00:00Z")
    res = run(XML, state, path="C:\\Windows\\Temp\\n.xml", xpath="/a/b", count=True)
    assert res["count"] == 0


@pytest.mark.parametrize(("xpath", "expected"), [
    ("//add[@name='X-Powered-By']/@value", ["ASP.NET"]),
    ("//defaultDocument/files/add[last()]/@value", ["iisstart.htm"]),
    ("//defaultDocument/files/add[position() < 3]/@value", ["Default.htm", "Default.asp"]),
    ("//mimeMap[contains(@mimeType, 'image')]/@fileExtension", [".png", ".svg"]),
    ("//section[@name='sites' and @allowDefinition='AppHostOnly']/@overrideModeDefault", ["Deny"]),
    ("//customHeaders/add/@name | //customHeaders/add/@value", ["X-Powered-By", "ASP.NET"]),
    ("//directoryBrowse[not(@enabled='true')]/@enabled", ["false"]),
    ("//requestLimits/../../@removeServerHeader", []),
    ("//files/add[@value='index.htm']/following-sibling::add[1]/@value", ["index.html"]),
])
def test_xpath_evaluator(xpath, expected):
    nodes = _select(_host(), xpath)
    assert [winxml.string_value(n) for n in nodes] == expected


def test_invalid_xpath_is_unhandled():
    res = run(XML, _host(), path=CFG, xpath="//add[@name=", count=True)
    assert res["msg"].startswith("Unhandled exception while executing module: Exception calling \"SelectNodes\"")
