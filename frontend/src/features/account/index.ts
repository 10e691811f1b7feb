export { AddressesPage } from './components/AddressesPage';
export { ProfilePage } from './components/ProfilePage';
export { SessionsPage } from './components/SessionsPage';
