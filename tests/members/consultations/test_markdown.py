from members.consultations.markdown import markdown_render


def test_markdown_keeps_headings_lists_and_links():
    html = markdown_render("# Title\n\n- one\n- two\n\n[plan](https://example.org/plan)")
    assert "<h2>Title</h2>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org/plan"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_markdown_drops_scripts_handlers_styles_and_script_links():
    html = markdown_render(
        '<script>alert(1)</script>\n\n<p onclick="x()" style="color:red">hi</p>\n\n'
        "[bad](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html
    assert "onclick" not in html and "style=" not in html
    assert "javascript:" not in html
    assert "<img" not in html and "onerror" not in html
