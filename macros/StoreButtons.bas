Attribute VB_Name = "StoreButtons"
' The store workbook's buttons (门店登记.xlsm). Each passes its RunPython command to RunTaizhang.
Option Explicit

' 校验本表: check the register sheet that is open
Public Sub CheckThisSheet()
    RunTaizhang "import toolkit.excel.buttons as b; b.check_sheet()"
End Sub

' 校验全部: check every register sheet
Public Sub CheckAllSheets()
    RunTaizhang "import toolkit.excel.buttons as b; b.check_all()"
End Sub

' 本店逾期: this store's overdue and due-soon items
Public Sub StoreOverdue()
    RunTaizhang "import toolkit.excel.buttons as b; b.store_overdue()"
End Sub
