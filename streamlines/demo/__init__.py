"""`streamlines demo`: the whole pipeline on the local stack (``service``), and its command
(``cli``)."""
