Attribute VB_Name = "OfficeButtons"
' The head-office workbook's buttons (总部汇总.xlsm). Each passes its RunPython command to RunTaizhang;
' the settings (input folder, month, as-of date, output folder, recipients) are read from the sheet.
Option Explicit

' 月度汇总: consolidate every store's workbooks into the monthly summary
Public Sub MonthlySummary()
    RunTaizhang "import toolkit.excel.buttons as b; b.monthly_summary()"
End Sub

' 逾期清单: overdue lists, one workbook per store
Public Sub OverdueLists()
    RunTaizhang "import toolkit.excel.buttons as b; b.overdue_lists()"
End Sub

' 发送邮件: email the summary and the stores' lists
Public Sub SendEmail()
    RunTaizhang "import toolkit.excel.buttons as b; b.send_email()"
End Sub

' 导出: export the consolidated records for other systems
Public Sub ExportData()
    RunTaizhang "import toolkit.excel.buttons as b; b.export_data()"
End Sub
