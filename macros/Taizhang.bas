Attribute VB_Name = "Taizhang"
' taizhang: how every button reaches Python.
' Each button's macro passes its exact RunPython command here. A workbook built with
' "taizhang excel build --standalone" carries xlwings' own RunPython; otherwise the xlwings add-in's is used.
' The Python side (toolkit.excel.buttons) saves the workbook, checks it and writes the results back.
Option Explicit

Public Sub RunTaizhang(ByVal command As String)
    If TryRunPython("'" & Replace(ThisWorkbook.Name, "'", "''") & "'!RunPython", command) Then Exit Sub
    If TryRunPython("xlwings.xlam!RunPython", command) Then Exit Sub
    MsgBox "找不到 xlwings。请在命令行运行: taizhang excel setup" & vbCrLf & _
           "然后重新打开本工作簿。" & vbCrLf & vbCrLf & _
           "xlwings was not found. Run 'taizhang excel setup' in a terminal, then reopen this workbook.", _
           vbExclamation, "taizhang"
End Sub

Private Function TryRunPython(ByVal macro As String, ByVal command As String) As Boolean
    On Error GoTo NotThere
    Application.Run macro, command
    TryRunPython = True
    Exit Function
NotThere:
    TryRunPython = False
End Function
