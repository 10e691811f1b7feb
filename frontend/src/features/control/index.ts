export { CellsPage } from './components/CellsPage';
