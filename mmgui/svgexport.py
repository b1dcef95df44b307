"""SVG exports that render the same outside Qt (rsvg-convert, browsers) as on screen.

Qt's ``QSvgGenerator`` writes SVG Tiny 1.2 with no clipping, and draws the plots' cosmetic
pens under their data transforms with ``vector-effect="non-scaling-stroke"``: renderers
that ignore that draw a curve or the playhead as a band as wide as the transform's scale,
and whatever a pane clips on screen (a long line, the image margin) spills over its
neighbours. Here:

- each ViewBox's content is clipped to the ViewBox (a ``clipPath`` found from two marker
  items painted just before and just after it);
- groups drawing shapes under a scaling transform get their coordinates transformed and
  the transform dropped, so strokes keep their on-screen width everywhere;
- a window export embeds the widgets around the plots (tables, toolbars, docks) as one
  raster image and draws every visible plot over it as vectors (curves as strokes, text as
  text).
"""
from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsItem

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)
_START, _END = 254, 253          # red channel of the marker colours (green, blue: the ViewBox's number)
_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class SvgExportError(ValueError):
    pass


class _Marker(QGraphicsItem):
    """Paints a rectangle of a code colour over its ViewBox: found again in the SVG, then removed."""

    def __init__(self, vb, red: int, index: int, z: float):
        super().__init__(vb)
        self.vb = vb
        self.colour = QColor(red, (index >> 8) & 255, index & 255)
        self.setZValue(z)

    def boundingRect(self):
        return self.vb.rect()

    def paint(self, p, *_):
        p.fillRect(self.vb.rect(), self.colour)


def _viewboxes(scene, source: QRectF) -> list:
    import pyqtgraph as pg

    return [it for it in scene.items() if isinstance(it, pg.ViewBox) and it.isVisible()
            and it.sceneBoundingRect().intersects(source)]


def render_scene(scene, source: QRectF, size: QSize, dpi: int = 96) -> ET.Element:
    """The part ``source`` of a scene as a cleaned-up SVG element tree (``size`` pixels)."""
    from PySide6.QtSvg import QSvgGenerator

    markers = []
    for i, vb in enumerate(_viewboxes(scene, source)):
        markers += [_Marker(vb, _START, i, -1e5), _Marker(vb, _END, i, 1e9)]
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setResolution(int(dpi))
    gen.setSize(size)
    gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
    painter = QPainter()
    try:
        if not painter.begin(gen):
            raise SvgExportError("could not draw the SVG")
        try:
            scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
        finally:
            painter.end()
    finally:
        for m in markers:
            scene.removeItem(m)
    root = ET.fromstring(bytes(buf.data()))
    clean(root)
    return root


# ------------------------------------------------------------------------------ geometry
def _matrix(text: str | None):
    if not text:
        return None
    m = re.match(r"\s*matrix\(([^)]*)\)", text)
    if m:
        v = [float(x) for x in _NUM.findall(m.group(1))]
        return v if len(v) == 6 else None
    m = re.match(r"\s*translate\(([^)]*)\)", text)
    if m:
        v = [float(x) for x in _NUM.findall(m.group(1))] + [0.0]
        return [1.0, 0.0, 0.0, 1.0, v[0], v[1]]
    return None


def _apply(m, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _bake(el: ET.Element, m) -> bool:
    """Transform ``el``'s coordinates by ``m`` in place; False when it cannot (text, images)."""
    tag = el.tag.split("}")[-1]
    if tag == "polyline" or tag == "polygon":
        nums = [float(x) for x in _NUM.findall(el.get("points", ""))]
        pts = [_apply(m, nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
        el.set("points", " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts))
        return True
    if tag == "path":
        d = el.get("d", "")
        if re.search(r"[mlcqsthvaHVA]", d):
            return False                      # relative or arc commands: Qt does not write them
        out = []
        for cmd, args in re.findall(r"([MLCQSTZz])([^MLCQSTZz]*)", d):
            nums = [float(x) for x in _NUM.findall(args)]
            pts = [_apply(m, nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
            out.append(cmd + " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts))
        el.set("d", " ".join(out))
        return True
    if tag == "line":
        x1, y1 = _apply(m, float(el.get("x1", 0)), float(el.get("y1", 0)))
        x2, y2 = _apply(m, float(el.get("x2", 0)), float(el.get("y2", 0)))
        for k, v in (("x1", x1), ("y1", y1), ("x2", x2), ("y2", y2)):
            el.set(k, _fmt(v))
        return True
    if tag == "rect":
        x, y = float(el.get("x", 0)), float(el.get("y", 0))
        w, h = float(el.get("width", 0)), float(el.get("height", 0))
        pts = [_apply(m, px, py) for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))]
        for k in ("x", "y", "width", "height", "rx", "ry"):
            el.attrib.pop(k, None)
        el.tag = f"{{{SVG}}}path"
        el.set("d", "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in pts) + " Z")
        return True
    return False


def _scales(m) -> bool:
    a, b, c, d, _, _ = m
    return abs(a - 1) > 1e-9 or abs(d - 1) > 1e-9 or abs(b) > 1e-9 or abs(c) > 1e-9


def _bake_group(g: ET.Element) -> None:
    m = _matrix(g.get("transform"))
    if m is None or not _scales(m) or not len(g):
        return
    kids = list(g)
    if not all(_bakeable(k) for k in kids):
        return
    for k in kids:
        _bake(k, m)
    del g.attrib["transform"]


def _bake_images(g: ET.Element) -> None:
    """Images under a scaling transform (a heatmap: a few pixels per class row) are stored at the
    size they are shown, scaled without smoothing, so that no renderer blurs their cells."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QTransform

    m = _matrix(g.get("transform"))
    if m is None or not _scales(m) or abs(m[1]) > 1e-9 or abs(m[2]) > 1e-9 or not len(g):
        return
    if not all(k.tag == f"{{{SVG}}}image" for k in g):
        return
    href = f"{{{XLINK}}}href"
    for img in g:
        data = img.get(href, "")
        if not data.startswith("data:image/"):
            return
    for img in g:
        x, y = float(img.get("x", 0)), float(img.get("y", 0))
        w, h = float(img.get("width", 0)), float(img.get("height", 0))
        (x0, y0), (x1, y1) = _apply(m, x, y), _apply(m, x + w, y + h)
        tw, th = int(round(abs(x1 - x0))), int(round(abs(y1 - y0)))
        if not (0 < tw <= 8192 and 0 < th <= 8192):
            return
        q = QImage.fromData(base64.b64decode(img.get(href).split(",", 1)[1]))
        if q.isNull():
            return
        if x1 < x0 or y1 < y0:
            q = q.transformed(QTransform.fromScale(-1.0 if x1 < x0 else 1.0, -1.0 if y1 < y0 else 1.0))
        q = q.scaled(tw, th, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                Qt.TransformationMode.FastTransformation)
        img.set(href, _png_href(q))
        for k, v in (("x", min(x0, x1)), ("y", min(y0, y1)), ("width", tw), ("height", th)):
            img.set(k, _fmt(v))
    del g.attrib["transform"]


def _bakeable(el: ET.Element) -> bool:
    tag = el.tag.split("}")[-1]
    if tag == "path":
        return not re.search(r"[mlcqsthvaHVA]", el.get("d", ""))
    return tag in ("polyline", "polygon", "line", "rect")


# ------------------------------------------------------------------------------ clean-up
def _marker(g: ET.Element):
    """(kind, index, clip rect) when ``g`` is a marker group, else None."""
    fill = g.get("fill", "")
    if len(fill) != 7 or not fill.startswith("#") or len(g) != 1 or g[0].tag.split("}")[-1] != "rect":
        return None
    r, gg, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    if r not in (_START, _END):
        return None
    rect = g[0]
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
    m = _matrix(g.get("transform")) or [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    pts = [_apply(m, px, py) for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return ("start" if r == _START else "end"), (gg << 8) | b, (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def clean(root: ET.Element, prefix: str = "v") -> None:
    """Make Qt's SVG render alike everywhere: clip each ViewBox, bake scaling transforms of shapes,
    draw images without smoothing, declare SVG 1.1."""
    root.set("version", "1.1")
    root.attrib.pop("baseProfile", None)
    defs = root.find(f"{{{SVG}}}defs")
    if defs is None:
        defs = ET.Element(f"{{{SVG}}}defs")
        root.insert(0, defs)
    for g in root.iter(f"{{{SVG}}}g"):
        _bake_group(g)
    for g in root.iter(f"{{{SVG}}}g"):
        _bake_images(g)
    for img in root.iter(f"{{{SVG}}}image"):
        img.set("image-rendering", "optimizeSpeed")
    # clip the content between the markers of each ViewBox
    holders = [el for el in root.iter() if any(_marker(k) for k in el if k.tag == f"{{{SVG}}}g")]
    for el in holders:
        _clip_between_markers(el, defs, prefix)


def _clip_between_markers(el: ET.Element, defs: ET.Element, prefix: str) -> None:
    kids = list(el)
    for k in kids:
        el.remove(k)
    stack = [el]
    for k in kids:
        mk = _marker(k) if k.tag == f"{{{SVG}}}g" else None
        if mk is None:
            stack[-1].append(k)
            continue
        kind, index, (x, y, w, h) = mk
        if kind == "start":
            cid = f"{prefix}clip{index}"
            cp = ET.SubElement(defs, f"{{{SVG}}}clipPath", {"id": cid})
            ET.SubElement(cp, f"{{{SVG}}}rect", {"x": _fmt(x), "y": _fmt(y), "width": _fmt(w), "height": _fmt(h)})
            g = ET.SubElement(stack[-1], f"{{{SVG}}}g", {"clip-path": f"url(#{cid})"})
            stack.append(g)
        elif len(stack) > 1:
            stack.pop()


def _prefix_ids(root: ET.Element, prefix: str) -> None:
    """Rename every id (gradients, clips) so that several documents can be merged."""
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    if not ids:
        return
    href = f"{{{XLINK}}}href"
    for el in root.iter():
        if el.get("id"):
            el.set("id", prefix + el.get("id"))
        for k, v in list(el.attrib.items()):
            if "url(#" in v:
                el.set(k, re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})"
                                 if m.group(1) in ids else m.group(0), v))
            elif k == href and v.startswith("#") and v[1:] in ids:
                el.set(k, "#" + prefix + v[1:])


def _document(w: float, h: float, title: str) -> ET.Element:
    root = ET.Element(f"{{{SVG}}}svg", {"width": _fmt(w), "height": _fmt(h), "viewBox": f"0 0 {_fmt(w)} {_fmt(h)}",
                                       "version": "1.1"})
    ET.SubElement(root, f"{{{SVG}}}title").text = title
    ET.SubElement(root, f"{{{SVG}}}defs")
    return root


def _adopt(doc: ET.Element, part: ET.Element, prefix: str, parent: ET.Element) -> None:
    """Move ``part``'s defs into ``doc``'s and its drawing into ``parent``."""
    _prefix_ids(part, prefix)
    defs = doc.find(f"{{{SVG}}}defs")
    for k in list(part):
        tag = k.tag.split("}")[-1]
        if tag == "defs":
            for d in list(k):
                defs.append(d)
        elif tag not in ("title", "desc"):
            parent.append(k)


def _write(doc: ET.Element, path: Path) -> None:
    ET.ElementTree(doc).write(str(path), encoding="utf-8", xml_declaration=True)


def _png_href(pixmap) -> str:
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(bytes(ba)).decode("ascii")


def _background(parent: ET.Element, w: float, h: float, colour: QColor) -> None:
    ET.SubElement(parent, f"{{{SVG}}}rect", {"x": "0", "y": "0", "width": _fmt(w), "height": _fmt(h),
                                            "fill": colour.name(), "stroke": "none"})


def item_svg(item, path, background: QColor | None = None) -> Path:
    """A pyqtgraph item (a pane, a layout) as SVG at its on-screen size."""
    path = Path(path)
    src = item.sceneBoundingRect()
    size = QSize(max(1, int(round(src.width()))), max(1, int(round(src.height()))))
    doc = _document(size.width(), size.height(), "M&m Studio")
    if background is None:
        views = item.scene().views()
        background = views[0].backgroundBrush().color() if views else QColor("#121316")
    _background(doc, size.width(), size.height(), background)
    _adopt(doc, render_scene(item.scene(), src, size), "p0", doc)
    _write(doc, path)
    return path


def widget_svg(widget, path, title: str = "M&m Studio") -> Path:
    """A window as SVG: its widgets as one raster image, every visible plot over it as vectors."""
    import pyqtgraph as pg

    path = Path(path)
    w, h = widget.width(), widget.height()
    doc = _document(w, h, title)
    pix = widget.grab()
    ET.SubElement(doc, f"{{{SVG}}}image", {"x": "0", "y": "0", "width": _fmt(w), "height": _fmt(h),
                                          f"{{{XLINK}}}href": _png_href(pix)})
    defs = doc.find(f"{{{SVG}}}defs")
    dpi = widget.logicalDpiX() or 96
    n = 0
    for view in widget.findChildren(pg.GraphicsView):
        vp = view.viewport()
        if not view.isVisible() or vp.visibleRegion().isEmpty():
            continue
        origin = vp.mapTo(widget, QPoint(0, 0))
        size = QSize(vp.width(), vp.height())
        source = view.mapToScene(vp.rect()).boundingRect()
        cid = f"view{n}"
        cp = ET.SubElement(defs, f"{{{SVG}}}clipPath", {"id": cid})
        ET.SubElement(cp, f"{{{SVG}}}rect", {"x": "0", "y": "0", "width": str(size.width()),
                                            "height": str(size.height())})
        g = ET.SubElement(doc, f"{{{SVG}}}g", {"transform": f"translate({origin.x()},{origin.y()})",
                                              "clip-path": f"url(#{cid})"})
        _background(g, size.width(), size.height(), view.backgroundBrush().color())
        _adopt(doc, render_scene(view.scene(), source, size, dpi), f"p{n}", g)
        n += 1
    _write(doc, path)
    return path
