export { AdminOrderPage } from './components/AdminOrderPage';
export { ImportPage } from './components/ImportPage';
export { ProductEditPage } from './components/ProductEditPage';
export { ProductsPage } from './components/ProductsPage';
export { PromotionsPage } from './components/PromotionsPage';
export { StaffOrdersPage } from './components/StaffOrdersPage';
