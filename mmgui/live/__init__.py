"""Live monitoring in the application: a microphone, any input device or a file played as if live.

- :mod:`.sources`: what to listen to (device or file), opened on the worker thread;
- :mod:`.session`: :class:`LiveSession`, the worker thread and the hand-over to the GUI thread;
- :mod:`.stats`: the readouts (latency, hops per second, dropped blocks, CPU);
- :mod:`.rolling`: the rolling spectrogram, d_t and attention panes (shifted image buffers);
- :mod:`.view`: the Live tab; :mod:`.install`: ``install(window)`` adds it to the main window.
"""
