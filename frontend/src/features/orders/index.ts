export { OrderDetailPage } from './components/OrderDetailPage';
export { OrdersPage } from './components/OrdersPage';
