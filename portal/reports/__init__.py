"""PDF (WeasyPrint) and XLSX (openpyxl) rendering shared by orders, statements and documents."""
