"""Building a VBA project (vbaProject.bin) from the buttons' VBA source, without Excel.

``compression`` is MS-OVBA's compression (section 2.4.1 of the specification), ``compound`` the
Compound File Binary format that holds the project's streams, ``project`` the streams themselves.
"""
