"""Teaching mode: M&mnet's attentional supervision explained with a clip's own numbers (issue 12).

``install(window)`` (``mmgui.teaching.install``) adds the Explain tab; the numbers come from
``engine.explain``, the lesson's text from assets/teaching/*.md.
"""
