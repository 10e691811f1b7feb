export { AuditLogPage } from './components/AuditLogPage';
export { CellsPage } from './components/CellsPage';
