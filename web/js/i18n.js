// Indonesian and English. Every text the page shows comes from `strings`: one line per
// key, [Indonesian, English]. `{name}` in a text is filled from t()'s second argument.
// Indonesian is the default; the choice is kept in this browser (localStorage).

export const LANGS = ['id', 'en'];
const LANG_STORAGE = 'armada.lang';
export const TZ = 'Asia/Makassar';

const strings = {
  'lang.switch': ['English', 'Bahasa Indonesia'],
  'lang.switchLabel': ['Ganti bahasa ke English', 'Switch the language to Bahasa Indonesia'],
  'nav.label': ['Menu utama', 'Main menu'],
  'nav.map': ['Peta langsung', 'Live map'],
  'nav.history': ['Riwayat kendaraan', 'Vehicle history'],
  'nav.reports': ['Laporan BBM', 'Fuel report'],
  'nav.alerts': ['Peringatan', 'Alerts'],
  'nav.settings': ['Aturan peringatan', 'Alert rules'],
  'nav.finance': ['Keuangan', 'Finance'],
  'nav.logout': ['Ganti kunci', 'Use another key'],

  'login.lead': ['Peta armada langsung. Masukkan kunci API Anda.', 'Live fleet map. Enter your API key.'],
  'login.key': ['Kunci API', 'API key'],
  'login.submit': ['Buka peta', 'Open the map'],
  'login.hint': ['Kunci hanya disimpan di peramban ini (local storage).', 'The key is kept in this browser only (local storage).'],
  'login.rejected': [
    'Kunci API itu tidak diterima (401): salah, dicabut, atau kedaluwarsa. Masukkan kunci yang berlaku.',
    'That API key was not accepted (401): it is wrong, revoked or expired. Enter a valid key.',
  ],

  'conn.connecting': ['menghubungkan…', 'connecting…'],
  'conn.reconnecting': ['menghubungkan ulang…', 'reconnecting…'],
  'conn.live': ['langsung', 'live'],
  'conn.offline': ['terputus{why}, mencoba lagi dalam {s} dtk', 'offline{why}, retrying in {s} s'],
  'err.unreachable': ['server tidak dapat dihubungi', 'server unreachable'],
  'err.http': ['HTTP {status}', 'HTTP {status}'],
  'err.load': ['Gagal memuat: {why}', 'Could not load: {why}'],

  'status.moving': ['bergerak', 'moving'],
  'status.idle': ['langsam', 'idle'],
  'status.stopped': ['berhenti', 'stopped'],
  'status.offline': ['luring', 'offline'],
  'status.label': ['Kendaraan menurut status', 'Vehicles by status'],

  'map.label': ['Peta Kupang', 'Map of Kupang'],
  'map.zoomIn': ['Perbesar', 'Zoom in'],
  'map.zoomOut': ['Perkecil', 'Zoom out'],
  'map.filter': ['Saring: pelat atau dinas', 'Filter: plate or department'],
  'map.filterLabel': ['Saring kendaraan', 'Filter vehicles'],
  'map.department': ['Dinas', 'Department'],
  'map.allDepartments': ['Semua dinas', 'All departments'],
  'map.plate': ['Pelat', 'Plate'],
  'map.status': ['Status', 'Status'],
  'map.speed': ['km/j', 'km/h'],
  'map.fuel': ['BBM L', 'Fuel L'],
  'map.fuelTitle': ['BBM di tangki, liter', 'Fuel in the tank, litres'],
  'map.listLabel': ['Daftar kendaraan', 'Vehicle list'],
  'map.empty': ['Tidak ada kendaraan untuk ditampilkan.', 'No vehicles to show.'],
  'map.legend': ['Keterangan', 'Legend'],
  'map.cluster': ['Kelompok kendaraan (jumlah, campuran status)', 'Group of vehicles (count, status mix)'],
  'map.boundary': ['Batas kota', 'City boundary'],
  'map.lastFix': ['posisi terakhir {time}', 'last fix {time}'],
  'map.fuelTip': ['BBM {litres} L', 'fuel {litres} L'],
  'map.openHistory': ['Riwayat', 'History'],
  'map.openHistoryOf': ['Riwayat {plate}', 'History of {plate}'],
  'map.listKeys': [
    'Panah atas dan bawah memilih kendaraan, Enter membukanya di peta, Escape menutupnya.',
    'Up and down arrows choose a vehicle, Enter opens it on the map, Escape closes it.',
  ],
  'map.rowTitle': ['{plate}, {dept}: posisi terakhir {time}', '{plate}, {dept}: last fix {time}'],
  'map.tilesMissing': [
    'Ubin peta tidak tersedia (tanpa internet): penanda tetap tampil.',
    'Map tiles unavailable (no internet): markers still show.',
  ],

  'alerts.title': ['Peringatan', 'Alerts'],
  'alerts.unacked': [' belum dikonfirmasi', ' unacknowledged'],
  'alerts.listLabel': ['Peringatan belum dikonfirmasi, terbaru di atas', 'Unacknowledged alerts, newest first'],
  'alerts.none': ['Tidak ada peringatan yang belum dikonfirmasi.', 'No unacknowledged alerts.'],
  'alerts.loadFailed': [
    'Peringatan tidak dapat dimuat ({why}); dicoba lagi segera.',
    'Alerts could not be loaded ({why}); trying again soon.',
  ],
  'alerts.show': ['Tampilkan {plate} di peta', 'Show {plate} on the map'],
  'alerts.note': ['Catatan (opsional)', 'Note (optional)'],
  'alerts.noteLabel': [
    'Catatan saat mengonfirmasi peringatan {kind} untuk {plate} (opsional)',
    'Note on acknowledging the {kind} alert of {plate} (optional)',
  ],
  'alerts.ack': ['Konfirmasi', 'Acknowledge'],
  'alerts.acking': ['Mengonfirmasi…', 'Acknowledging…'],
  'alerts.acked': ['Dikonfirmasi {time}', 'Acknowledged {time}'],
  'alerts.notAcked': ['Tidak dikonfirmasi: {why}', 'Not acknowledged: {why}'],
  'alerts.tryAgain': ['server tidak dapat dihubungi; coba lagi.', 'the server could not be reached; try again.'],
  'alerts.kind': ['Jenis', 'Kind'],
  'alerts.allKinds': ['Semua jenis', 'All kinds'],
  'alerts.onlyUnacked': ['Hanya yang belum dikonfirmasi', 'Unacknowledged only'],
  'alerts.time': ['Waktu (WITA)', 'Time (WITA)'],
  'alerts.vehicle': ['Kendaraan', 'Vehicle'],
  'alerts.message': ['Keterangan', 'Details'],
  'alerts.state': ['Status', 'State'],
  'alerts.more': [
    'Menampilkan {n} pertama; persempit periode untuk melihat sisanya.',
    'Showing the first {n}; narrow the period to see the rest.',
  ],

  'kind.speeding': ['Melebihi batas kecepatan', 'Speeding'],
  'kind.outside_working_hours': ['Di luar jam kerja', 'Outside working hours'],
  'kind.geofence_exit': ['Keluar geofence', 'Left geofence'],
  'kind.low_battery': ['Aki lemah', 'Low battery'],
  'kind.device_silent': ['Perangkat diam', 'Device silent'],
  'kind.fuel_drain': ['BBM terkuras', 'Fuel drain'],
  'msg.speeding': ['{plate} melaju {speed} km/j (batas {limit})', '{plate} at {speed} km/h (limit {limit})'],
  'msg.outside_working_hours': ['{plate} dipakai di luar jam kerja', '{plate} in use outside working hours'],
  'msg.geofence_exit': ['{plate} keluar dari {fence}', '{plate} left {fence}'],
  'msg.low_battery': ['Aki {plate} {volts} V', '{plate} battery at {volts} V'],
  'msg.device_silent': ['{plate} tidak mengirim data sejak {time}', '{plate} has delivered no usable reading since {time}'],
  'msg.fuel_drain': ['{plate}: {litres} L terkuras', '{plate}: {litres} L drained'],
  'msg.fuel_drain_moving': ['{plate}: {litres} L terkuras saat berjalan', '{plate}: {litres} L drained while moving'],

  'period.from': ['Dari (WITA)', 'From (WITA)'],
  'period.to': ['Sampai dengan (WITA)', 'To (WITA, inclusive)'],
  'period.show': ['Tampilkan', 'Show'],
  'period.invalid': ['Tanggal akhir harus sama atau setelah tanggal awal.', 'The end day must be on or after the start day.'],
  loading: ['Memuat…', 'Loading…'],

  'history.vehicle': ['Kendaraan (pelat)', 'Vehicle (plate)'],
  'history.pick': ['Pilih kendaraan menurut pelat.', 'Pick a vehicle by its plate.'],
  'history.unknownPlate': ['Tidak ada kendaraan dengan pelat "{plate}".', 'No vehicle has the plate "{plate}".'],
  'history.trips': ['Perjalanan', 'Trips'],
  'history.stops': ['Perhentian', 'Stops'],
  'history.noTrips': ['Tidak ada perjalanan dalam periode ini.', 'No trips in this period.'],
  'history.noStops': ['Tidak ada perhentian dalam periode ini.', 'No stops in this period.'],
  'history.noTrack': ['Tidak ada posisi dalam periode ini.', 'No positions in this period.'],
  'history.truncated': [
    'Rute terpotong: terlalu banyak titik; pilih periode lebih pendek.',
    'The route is cut short: too many points; choose a shorter period.',
  ],
  'history.start': ['Mulai', 'Start'],
  'history.end': ['Selesai', 'End'],
  'history.km': ['km', 'km'],
  'history.duration': ['Durasi', 'Duration'],
  'history.litres': ['Liter', 'Litres'],
  'history.engineOn': ['Mesin hidup', 'Engine on'],
  'history.fuelChart': ['Tingkat BBM (L)', 'Fuel level (L)'],
  'history.noFuel': ['Kendaraan ini tidak melaporkan tingkat BBM.', 'This vehicle reports no fuel level.'],
  'history.refuel': ['Isi BBM {litres} L', 'Refuel {litres} L'],
  'history.drain': ['BBM terkuras {litres} L', 'Drain {litres} L'],
  'history.summary': ['{km} km, {litres} L BBM ({source}), {trips} perjalanan', '{km} km, {litres} L fuel ({source}), {trips} trips'],
  'history.play': ['Putar', 'Play'],
  'history.pause': ['Jeda', 'Pause'],
  'history.speed': ['Kecepatan putar ulang', 'Replay speed'],
  'history.position': ['Posisi putar ulang', 'Replay position'],
  'history.zoomTo': ['Perbesar ke {what}', 'Zoom to {what}'],
  'history.partial': ['(terpotong di tepi periode)', '(cut at the period’s edge)'],

  'source.counter': ['penghitung CAN', 'CAN counter'],
  'source.sensor': ['sensor tangki', 'tank sensor'],
  'source.rated': ['konsumsi standar', 'rated consumption'],

  'fin.tabs': ['Bagian keuangan', 'Finance sections'],
  'fin.savings': ['Penghematan', 'Savings'],
  'fin.reconciliation': ['Rekonsiliasi', 'Reconciliation'],
  'fin.purchases': ['Pembelian BBM', 'Fuel purchases'],
  'fin.savingsTitle': ['Penghematan BBM', 'Fuel savings'],
  'fin.reconTitle': ['Rekonsiliasi pembelian BBM', 'Fuel purchase reconciliation'],
  'fin.purchasesTitle': ['Pembelian BBM (buku besar)', 'Fuel purchases (ledger)'],
  'fin.period': ['Periode', 'Period'],
  'fin.byMonth': ['Bulan', 'Month'],
  'fin.byYear': ['Tahun', 'Year'],
  'fin.month': ['Bulan', 'Month'],
  'fin.year': ['Tahun', 'Year'],
  'fin.department': ['Dinas', 'Department'],
  'fin.allDepartments': ['Semua dinas', 'All departments'],
  'fin.csv': ['Unduh CSV', 'Download CSV'],
  'fin.xlsx': ['Unduh XLSX', 'Download XLSX'],
  'fin.downloadFailed': ['Berkas tidak dapat diunduh: {why}', 'The file could not be downloaded: {why}'],
  'fin.print': ['Cetak', 'Print'],
  'fin.printed': ['Dicetak {time}', 'Printed {time}'],
  'fin.partial': ['Bulan berjalan: baseline dihitung dari hari yang sudah lewat.', 'Current month: the baseline counts the elapsed days.'],
  'fin.closed': ['Bulan ditutup: laporan seperti saat ditandatangani.', 'Closed month: the report as signed.'],
  'fin.none': ['Tidak ada kendaraan dalam laporan ini.', 'No vehicles in this report.'],
  'fin.total': ['Total', 'Total'],
  'fin.col.plate': ['Pelat', 'Plate'],
  'fin.col.baselineLitres': ['Jatah L', 'Allocation L'],
  'fin.col.baselineIdr': ['Jatah Rp', 'Allocation Rp'],
  'fin.col.purchasedLitres': ['Dibeli L', 'Bought L'],
  'fin.col.purchasedIdr': ['Dibeli Rp', 'Bought Rp'],
  'fin.col.usedLitres': ['Terpakai L', 'Used L'],
  'fin.col.unexplainedLitres': ['Tak terjelaskan L', 'Unexplained L'],
  'fin.col.savingsIdr': ['Penghematan Rp', 'Savings Rp'],
  'fin.col.budgetIdr': ['Anggaran tahunan', 'Yearly budget'],
  'fin.col.spentIdr': ['Terpakai tahun ini', 'Spent this year'],
  'fin.col.budgetLeftIdr': ['Sisa anggaran', 'Budget left'],
  'fin.col.time': ['Waktu', 'Time'],
  'fin.col.litres': ['Liter', 'Litres'],
  'fin.col.amount': ['Jumlah', 'Amount'],
  'fin.col.status': ['Status', 'Status'],
  'fin.col.flags': ['Catatan', 'Flags'],
  'fin.col.fuelType': ['BBM', 'Fuel'],
  'fin.col.station': ['SPBU', 'Station'],
  'fin.col.receipt': ['No. struk', 'Receipt no.'],
  'fin.col.source': ['Sumber', 'Source'],
  'fin.col.actions': ['Tindakan', 'Actions'],
  'fin.signature': ['Tanda tangan', 'Signature'],
  'fin.preparedBy': ['Disiapkan oleh', 'Prepared by'],
  'fin.checkedBy': ['Diperiksa oleh', 'Checked by'],
  'fin.approvedBy': ['Disetujui oleh', 'Approved by'],
  'fin.nameDate': ['Nama / tanggal', 'Name / date'],
  'fin.openHistory': ['Buka riwayat {plate} saat pembelian', 'Open the history of {plate} at the purchase time'],
  'fin.noPurchases': ['Tidak ada pembelian dalam bulan ini.', 'No purchases in this month.'],
  'fin.refuelsWithoutReceipt': ['Pengisian tanpa struk', 'Refuels without a receipt'],
  'fin.noRefuelsWithoutReceipt': ['Setiap pengisian yang terdeteksi memiliki struk.', 'Every detected refuel has a receipt.'],
  'fin.adjustments': [
    'Struk bulan {month} (sudah ditutup) yang dicatat setelah penutupan',
    'Receipts for {month} (closed) entered after closing',
  ],
  'fin.status.pending': ['menunggu', 'pending'],
  'fin.status.matched': ['cocok', 'matched'],
  'fin.status.flagged': ['ditandai', 'flagged'],
  'fin.status.unverifiable': ['tak dapat diverifikasi', 'unverifiable'],
  'flag.no_tank_rise': ['Tangki tidak naik di sekitar waktu struk.', 'The tank did not rise around the receipt time.'],
  'flag.more_than_rise': ['Liter di struk melebihi kenaikan tangki.', 'The receipt has more litres than the tank rose.'],
  'flag.away_from_vehicle': ['Kendaraan jauh dari tempat pembelian.', 'The vehicle was away from where the fuel was bought.'],
  'flag.over_tank_capacity': ['Lebih banyak liter daripada muatan tangki.', 'More litres than the tank had room for.'],
  'flag.fuel_type_mismatch': ['Jenis BBM bukan jenis BBM kendaraan.', "The fuel bought is not the vehicle's fuel type."],
  'flag.duplicate_receipt': [
    'Nomor struk yang sama sudah tercatat dengan isi lain.',
    'The same receipt number is already recorded with other content.',
  ],
  'flag.no_telemetry': ['Tidak ada data pelacak di sekitar waktu pembelian.', 'No tracker reading around the purchase time.'],
  'flag.voucher_exceeded': ['Voucher terlampaui atau tidak dapat dipakai.', 'The voucher was exceeded or cannot be used.'],
  'flag.price_mismatch': ['Harga per liter berbeda dari harga yang berlaku.', 'The price per litre differs from the price in force.'],
  'flag.odometer_mismatch': ['Odometer di struk berbeda dari pelacak.', "The receipt's odometer differs from the tracker's."],
  'flag.subsidised_fuel': ['BBM bersubsidi, tidak untuk kendaraan dinas.', 'Subsidised fuel, barred for official vehicles.'],
  'flag.beyond_rated_use': ['Pembelian melebihi pemakaian wajar kendaraan.', "Purchases beyond the vehicle's rated use."],
  'fin.standing': ['{count} pembelian berlaku: {litres} L, {amount}', '{count} standing purchases: {litres} L, {amount}'],
  'fin.voided': ['dibatalkan: {reason}', 'voided: {reason}'],
  'fin.void': ['Batalkan', 'Void'],
  'fin.voidReason': ['Alasan pembatalan', 'Reason for voiding'],
  'fin.voidConfirm': ['Batalkan pembelian', 'Void the purchase'],
  'fin.cancel': ['Batal', 'Cancel'],
  'fin.voidFailed': ['Pembatalan gagal: {why}', 'Voiding failed: {why}'],
  'fin.prev': ['‹ Sebelumnya', '‹ Previous'],
  'fin.next': ['Berikutnya ›', 'Next ›'],
  'fin.pageOf': ['{from}–{to} dari {total}', '{from}–{to} of {total}'],
  'fin.record': ['Catat pembelian', 'Record a purchase'],
  'fin.vehicle': ['Kendaraan', 'Vehicle'],
  'fin.at': ['Waktu (WITA)', 'Time (WITA)'],
  'fin.amountIdr': ['Jumlah (Rp)', 'Amount (Rp)'],
  'fin.odometer': ['Odometer km', 'Odometer km'],
  'fin.save': ['Simpan', 'Save'],
  'fin.recorded': ['Tercatat: {plate}, {litres} L, {amount}.', 'Recorded: {plate}, {litres} L, {amount}.'],
  'fin.recordFailed': ['Tidak tersimpan: {why}', 'Not saved: {why}'],
  'fin.import': ['Impor CSV kartu BBM', 'Fuel-card CSV import'],
  'fin.importFile': ['Berkas CSV', 'CSV file'],
  'fin.importCheck': ['Periksa (tanpa menyimpan)', 'Check (writes nothing)'],
  'fin.importDo': ['Impor', 'Import'],
  'fin.importSummary': [
    '{rows} baris: {created} baru, {existing} sudah ada, {invalid} tidak sah.',
    '{rows} rows: {created} new, {existing} already there, {invalid} invalid.',
  ],
  'fin.importChecked': ['Hasil pemeriksaan; belum ada yang disimpan.', 'Checked; nothing written yet.'],
  'fin.importDone': ['Impor selesai.', 'Import done.'],
  'fin.importFailed': ['Impor gagal: {why}', 'Import failed: {why}'],
  'fin.line': ['Baris', 'Line'],
  'fin.row.created': ['baru', 'created'],
  'fin.row.existing': ['sudah ada', 'existing'],
  'fin.row.invalid': ['tidak sah', 'invalid'],
  'fin.row.would_create': ['akan dibuat', 'would create'],
  'fin.row.not_written': ['tidak ditulis', 'not written'],
  'fin.readOnly': [
    'Hanya baca: mencatat dan membatalkan untuk peran keuangan dan admin.',
    'Read only: recording and voiding are for the finance and admin roles.',
  ],
  'fin.vouchers': ['Voucher', 'Vouchers'],
  'fin.registers': ['Harga & SPBU', 'Prices & stations'],
  'fin.closings': ['Tutup bulan', 'Month closing'],
  'fin.vouchersTitle': ['Voucher BBM', 'Fuel vouchers'],
  'fin.registersTitle': ['Harga BBM dan SPBU', 'Fuel prices and stations'],
  'fin.closingsTitle': ['Penutupan bulan', 'Closing a month'],
  'fin.voucherLitres': ['Liter diminta (kosong: sebanyak boleh)', 'Litres asked (empty: as much as allowed)'],
  'fin.voucherIssue': ['Terbitkan voucher', 'Issue a voucher'],
  'fin.voucherIssued': ['Voucher {code} untuk {plate}: {litres} L.', 'Voucher {code} for {plate}: {litres} L.'],
  'fin.voucherFailed': ['Voucher tidak diterbitkan: {why}', 'No voucher issued: {why}'],
  'fin.limitedBy.tank_room': ['Kurang dari diminta: sisa ruang tangki.', 'Less than asked: the room left in the tank.'],
  'fin.limitedBy.allocation_left': [
    'Kurang dari diminta: sisa jatah bulan ini.',
    "Less than asked: what is left of the month's allocation.",
  ],
  'fin.limitedBy.no_recent_level': ['Kurang dari diminta: tidak ada level tangki terbaru.', 'Less than asked: no recent tank level.'],
  'fin.noVouchers': ['Tidak ada voucher dalam 31 hari terakhir.', 'No vouchers in the last 31 days.'],
  'fin.voucher.open': ['berlaku', 'open'],
  'fin.voucher.redeemed': ['ditebus', 'redeemed'],
  'fin.voucher.expired': ['kedaluwarsa', 'expired'],
  'fin.col.code': ['Kode', 'Code'],
  'fin.col.granted': ['Diberikan L', 'Granted L'],
  'fin.col.created': ['Diterbitkan', 'Issued'],
  'fin.col.expires': ['Berlaku sampai', 'Expires'],
  'fin.prices': ['Harga BBM', 'Fuel prices'],
  'fin.stations': ['SPBU', 'Filling stations'],
  'fin.noPrices': ['Belum ada harga.', 'No prices yet.'],
  'fin.noStations': ['Belum ada SPBU terdaftar.', 'No stations registered yet.'],
  'fin.col.pricePerLitre': ['Harga per liter', 'Price per litre'],
  'fin.col.validFrom': ['Berlaku sejak', 'Valid from'],
  'fin.col.priceSource': ['Sumber', 'Source'],
  'fin.col.stationCode': ['Kode', 'Code'],
  'fin.col.stationName': ['Nama', 'Name'],
  'fin.col.position': ['Posisi', 'Position'],
  'fin.closingLead': [
    'Bulan yang ditutup dibekukan: laporan penghematan dan rekonsiliasinya tetap seperti saat ditandatangani.',
    'A closed month is frozen: its savings and reconciliation reports stay as they were signed.',
  ],
  'fin.closeMonth': ['Tutup bulan', 'Close the month'],
  'fin.closedOk': ['Bulan {month} ditutup.', '{month} is closed.'],
  'fin.closeFailed': ['Bulan tidak ditutup: {why}', 'The month was not closed: {why}'],
  'fin.noClosings': ['Belum ada bulan yang ditutup.', 'No month closed yet.'],
  'fin.col.closedAt': ['Ditutup', 'Closed'],
  'fin.col.closedBy': ['Oleh', 'By'],
  'reports.title': ['Laporan BBM armada', 'Fleet fuel report'],
  'reports.csv': ['Unduh CSV', 'Download CSV'],
  'reports.csvFailed': ['CSV tidak dapat diunduh: {why}', 'The CSV could not be downloaded: {why}'],
  'reports.xlsx': ['Unduh XLSX', 'Download XLSX'],
  'reports.xlsxFailed': ['XLSX tidak dapat diunduh: {why}', 'The XLSX could not be downloaded: {why}'],
  'reports.total': ['Total', 'Total'],
  'reports.none': ['Tidak ada kendaraan dalam laporan ini.', 'No vehicles in this report.'],
  'reports.openHistory': ['Buka riwayat {plate} untuk periode ini', 'Open the history of {plate} for this period'],
  'col.plate': ['Pelat', 'Plate'],
  'col.department': ['Dinas', 'Department'],
  'col.distanceKm': ['Jarak km', 'Distance km'],
  'col.fuelUsedLitres': ['BBM terpakai L', 'Fuel used L'],
  'col.fuelSource': ['Sumber', 'Source'],
  'col.litresPer100Km': ['L/100 km', 'L/100 km'],
  'col.idleLitres': ['Langsam L', 'Idle L'],
  'col.idleHours': ['Langsam jam', 'Idle h'],
  'col.distanceOutsideHoursKm': ['Di luar jam kerja km', 'Outside hours km'],
  'col.refuelledLitres': ['Isi ulang L', 'Refuelled L'],
  'col.drainedLitres': ['Terkuras L', 'Drained L'],
  'col.tripCount': ['Perjalanan', 'Trips'],
  'sort.by': ['Urutkan menurut {col}', 'Sort by {col}'],

  'settings.title': ['Aturan peringatan per dinas', 'Alert rules per department'],
  'settings.lead': [
    'Jam dan hari kerja tiap dinas, dan kendaraan yang tidak memicu peringatan di luar jam kerja (ambulans, pemadam, tanggap bencana).',
    'Working hours and days of each department, and the vehicles that raise no outside-hours alert (ambulances, fire, disaster response).',
  ],
  'settings.days': ['Hari kerja', 'Working days'],
  'settings.start': ['Mulai', 'Starts'],
  'settings.end': ['Selesai', 'Ends'],
  'settings.default': ['Memakai jam kerja bawaan: {hours}', 'Uses the default working hours: {hours}'],
  'settings.custom': ['Jam kerja sendiri', 'Own working hours'],
  'settings.exempt': ['Dikecualikan dari peringatan di luar jam kerja', 'Exempt from outside-hours alerts'],
  'settings.save': ['Simpan', 'Save'],
  'settings.saving': ['Menyimpan…', 'Saving…'],
  'settings.saved': ['Tersimpan.', 'Saved.'],
  'settings.notSaved': ['Tidak tersimpan: {why}', 'Not saved: {why}'],
  'settings.readOnly': ['Hanya admin yang dapat mengubah aturan ini.', 'Only an admin may change these rules.'],
  'settings.noDays': ['Pilih paling sedikit satu hari kerja.', 'Choose at least one working day.'],
  'settings.badHours': ['Jam mulai harus sebelum jam selesai.', 'The start must be before the end.'],
  'day.1': ['Sen', 'Mon'],
  'day.2': ['Sel', 'Tue'],
  'day.3': ['Rab', 'Wed'],
  'day.4': ['Kam', 'Thu'],
  'day.5': ['Jum', 'Fri'],
  'day.6': ['Sab', 'Sat'],
  'day.7': ['Min', 'Sun'],
};

let lang = LANGS.includes(localStorage.getItem(LANG_STORAGE)) ? localStorage.getItem(LANG_STORAGE) : 'id';
const listeners = new Set();

export const getLang = () => lang;

export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  localStorage.setItem(LANG_STORAGE, next);
  document.documentElement.lang = next;
  makeFormats();
  for (const f of listeners) f(next);
}

export function onLangChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function t(key, params) {
  const entry = strings[key];
  let text = entry ? entry[lang === 'id' ? 0 : 1] : key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
  return text;
}

// ---------------------------------------------------------------- formats

let f = {};
function makeFormats() {
  const locale = lang === 'id' ? 'id-ID' : 'en-GB';
  f = {
    dateTime: new Intl.DateTimeFormat(locale, {
      timeZone: TZ,
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    }),
    dateTimeShort: new Intl.DateTimeFormat(locale, {
      timeZone: TZ,
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    }),
    time: new Intl.DateTimeFormat(locale, { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false }),
    day: new Intl.DateTimeFormat(locale, { timeZone: TZ, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }),
    n0: new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
    n1: new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    n2: new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    rupiah: new Intl.NumberFormat('id-ID', { maximumFractionDigits: 0 }),
  };
}
makeFormats();
document.documentElement.lang = lang;

export const fmt = {
  /** "6 Des 14.03.12 WITA" / "6 Dec 14:03:12 WITA" */
  time: (iso) => `${f.dateTime.format(new Date(iso))} WITA`,
  timeShort: (iso) => `${f.dateTimeShort.format(new Date(iso))} WITA`,
  clock: (ms) => f.time.format(new Date(ms)),
  day: (ms) => f.day.format(new Date(ms)),
  n0: (x) => (x == null ? '–' : f.n0.format(x)),
  n1: (x) => (x == null ? '–' : f.n1.format(x)),
  n2: (x) => (x == null ? '–' : f.n2.format(x)),
  /** Rupiah the Indonesian way in both languages: "Rp 1.234.567". */
  rupiah: (idr) => (idr == null ? '–' : `Rp ${f.rupiah.format(Math.round(idr))}`.replace('Rp -', '-Rp ')),
  duration: (s) => {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return h > 0 ? `${h} ${lang === 'id' ? 'j' : 'h'} ${m} m` : `${m} m`;
  },
};

// ---------------------------------------------------------------- report days (WITA, UTC+8 all year)

const WITA_MS = 8 * 3_600_000;
/** Today in WITA as YYYY-MM-DD. */
export const todayWita = (nowMs = Date.now()) => new Date(nowMs + WITA_MS).toISOString().slice(0, 10);
export const dayStartIso = (day) => new Date(Date.parse(`${day}T00:00:00Z`) - WITA_MS).toISOString();
/** The instant after the day (the exclusive end of a period that includes it). */
export const dayEndIso = (day) => new Date(Date.parse(`${day}T00:00:00Z`) - WITA_MS + 86_400_000).toISOString();
/** The WITA day an instant falls on. */
export const witaDayOf = (iso) => new Date(Date.parse(iso) + WITA_MS).toISOString().slice(0, 10);
/** The WITA day that contains the last instant before an exclusive end. */
export const witaDayBefore = (iso) => new Date(Date.parse(iso) - 1 + WITA_MS).toISOString().slice(0, 10);

/** An alert's text in the page's language, from its kind and details; the API's English message otherwise. */
export function alertText(a, plate) {
  const d = a.details ?? {};
  switch (a.kind) {
    case 'speeding':
      if (d.speedKmh != null && d.limitKmh != null) return t('msg.speeding', { plate, speed: Math.round(d.speedKmh), limit: d.limitKmh });
      break;
    case 'outside_working_hours':
      return t('msg.outside_working_hours', { plate });
    case 'geofence_exit':
      if (d.geofenceName) return t('msg.geofence_exit', { plate, fence: d.geofenceName });
      break;
    case 'low_battery':
      if (d.batteryV != null) return t('msg.low_battery', { plate, volts: fmt.n1(d.batteryV) });
      break;
    case 'device_silent':
      if (d.lastSeenAt || d.registeredAt) return t('msg.device_silent', { plate, time: fmt.timeShort(d.lastSeenAt ?? d.registeredAt) });
      break;
    case 'fuel_drain':
      if (d.litres != null) return t(d.moving ? 'msg.fuel_drain_moving' : 'msg.fuel_drain', { plate, litres: fmt.n1(d.litres) });
      break;
  }
  return a.message;
}

export const kindName = (kind) => (strings[`kind.${kind}`] ? t(`kind.${kind}`) : kind.replaceAll('_', ' '));
